export type { NextBackendOptions } from "./context.js";
export type { BackendFetch } from "./fetch.js";
export type { LoginOptions, LoginResult, NextAuthSignIn } from "./login.js";
export { type NextBackend, nextBackend } from "./next-backend.js";
export type { BackendProxyOptions, ProxySession } from "./proxy.js";
export type { RouteHandlers } from "./routes.js";
