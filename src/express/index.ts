export { type BackendSessionOptions, backendSession } from "./backend-session.js";
export type { BackendFetch, ExpressBackend } from "./client.js";
export type { ExpressContextOptions } from "./context.js";
export { type EndedSessionOptions, endedSession } from "./ended-session.js";
