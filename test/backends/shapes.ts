/**
 * Provider options for common backend shapes, each tested against the reference backend in that
 * shape (test/backend-recipes.test.ts) and shown in docs/backends.md, which must quote them
 * exactly (the same test checks it).
 */
import type { BackendCredentialsOptions } from "../../src/index.js";

/** A NestJS-style starter: tokens in the JSON body, the refresh token sent back as Bearer. */
export function bearerRefreshOptions(baseUrl: string): BackendCredentialsOptions {
  return {
    baseUrl,
    endpoints: { login: "/auth/login", refresh: "/auth/refresh", logout: "/auth/logout" },
    tokens: { accessToken: { body: "accessToken" }, refreshToken: { body: "refreshToken" } },
    refreshTokenTransport: "bearer",
  };
}

/** A cookie-only session: both tokens in HttpOnly cookies, refresh sends the cookies back. */
export function cookieOnlyOptions(baseUrl: string): BackendCredentialsOptions {
  return {
    baseUrl,
    endpoints: { logout: "/auth/logout" },
    tokens: {
      accessToken: { cookie: "access_token" },
      refreshToken: { cookie: "refresh_token" },
    },
    refreshTokenTransport: "cookie",
  };
}

/** Tokens wrapped in `{ "data": { … } }`, expiry in `data.expiresIn` (seconds). */
export function dataWrapperOptions(baseUrl: string): BackendCredentialsOptions {
  return {
    baseUrl,
    endpoints: { logout: "/auth/logout" },
    tokens: {
      accessToken: { body: "data.accessToken" },
      refreshToken: { body: "data.refreshToken" },
    },
    expiry: { accessToken: { expiresIn: "data.expiresIn" } },
    refreshTokenTransport: { body: "refreshToken" },
  };
}

/** Tokens split: the access token in the body, the refresh token in an HttpOnly cookie. */
export function splitTokensOptions(baseUrl: string): BackendCredentialsOptions {
  return {
    baseUrl,
    endpoints: { logout: "/auth/logout" },
    tokens: { accessToken: { body: "accessToken" }, refreshToken: { cookie: "refresh_token" } },
  };
}
