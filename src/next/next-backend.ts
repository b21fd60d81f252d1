import type { AuthConfig } from "@auth/core";
import type { AxiosInstance } from "axios";
import type { BackendAuth } from "../backend-auth.js";
import { createBackendAxios } from "./axios.js";
import { createNextContext, type NextBackendOptions } from "./context.js";
import { type BackendFetch, createBackendFetch } from "./fetch.js";
import {
  type LoginOptions,
  type LoginResult,
  loginAction,
  loginRoute,
  type NextAuthSignIn,
} from "./login.js";
import { type BackendProxyOptions, createProxy } from "./proxy.js";
import { createExpiredRoute, createRefreshRoute, type RouteHandlers } from "./routes.js";

/** What {@link nextBackend} returns: everything a Next.js App Router app needs. */
export interface NextBackend {
  /**
   * Pass to `NextAuth(backend.authConfig)`. A lazy config: with a request (proxy, route handlers)
   * the `jwt` callback refreshes when due; without one (Server Components, and `auth()` in server
   * actions) it never rotates, because that response cannot save the new session cookie.
   */
  authConfig: (request?: Request) => AuthConfig;
  /** Builds the `proxy.ts` (or `middleware.ts`) function; see {@link BackendProxyOptions}. */
  proxy(
    options?: BackendProxyOptions,
  ): (request: import("next/server").NextRequest) => Promise<Response>;
  /** Server-side fetch to the backend with the session's credentials; see {@link BackendFetch}. */
  fetch: BackendFetch;
  /** The current session's backend credentials (access token, cookie header) for other HTTP clients. Redirects like `fetch` when there is none. */
  getAuth(): Promise<BackendAuth>;
  /**
   * Installs the session's credentials on your axios instance (and returns it), with the
   * redirects of `fetch`: only the backend's origin receives credentials; no session → sign-in;
   * an expired token or a 401 → `refreshPath` (one refresh, then the request runs again); an
   * ended session → `expiredPath`. For Server Components, server actions and route handlers.
   */
  axios(instance: AxiosInstance): AxiosInstance;
  /**
   * Route handlers for `refreshPath`: `export const { GET, POST } = backend.refreshRoute`. Sets a
   * short-lived `authjs-backend.retried` cookie (HttpOnly, scoped to `refreshPath`) so that a token
   * the backend rejects right after a refresh ends the session instead of looping.
   */
  refreshRoute: RouteHandlers;
  /**
   * Route handlers for `expiredPath`: `export const { GET, POST } = backend.expiredRoute`. Does not
   * sign out a live session on a cross-site request (`Sec-Fetch-Site: cross-site`).
   */
  expiredRoute: RouteHandlers;
  /**
   * Server-action login for `useActionState`: `return backend.login(signIn, formData)`. Redirects to
   * the form's same-origin `callbackUrl` on success; returns `{ error }` with a sign-in code on failure.
   */
  login(signIn: NextAuthSignIn, formData: FormData, options?: LoginOptions): Promise<LoginResult>;
  /**
   * A `POST` route handler that logs in from JSON or form fields:
   * `export const POST = backend.loginRoute(signIn)`. Refuses cross-site requests (`Sec-Fetch-Site`
   * or `Origin` from another site) with 403 `{ error: "forbidden" }` (login CSRF).
   */
  loginRoute(
    signIn: NextAuthSignIn,
    options?: LoginOptions,
  ): (request: Request) => Promise<Response>;
}

/**
 * The Next.js App Router layer. Call it once (in `auth.ts`) with the same Auth.js config you would
 * give `NextAuth`, containing a `BackendCredentials` provider; the rotation callbacks are installed
 * for you.
 *
 * @example
 * ```ts
 * // auth.ts
 * export const backend = nextBackend({ providers: [BackendCredentials({ baseUrl: process.env.BACKEND_URL!, endpoints: { logout: "/auth/logout" } })] })
 * export const { handlers, auth, signIn, signOut } = NextAuth(backend.authConfig)
 * // proxy.ts
 * export const proxy = backend.proxy({ protect: ["/dashboard"] })
 * ```
 */
export function nextBackend(config: AuthConfig, options: NextBackendOptions = {}): NextBackend {
  const context = createNextContext(config, options);
  const { fetch, getAuth } = createBackendFetch(context);
  return {
    authConfig: (request) => context.config(request ? "auto" : "never"),
    proxy: (proxyOptions) => createProxy(context, proxyOptions),
    fetch,
    getAuth,
    axios: createBackendAxios(context),
    refreshRoute: createRefreshRoute(context),
    expiredRoute: createExpiredRoute(context),
    login: (signIn, formData, loginOptions) => loginAction(context, signIn, formData, loginOptions),
    loginRoute: (signIn, loginOptions) => loginRoute(context, signIn, loginOptions),
  };
}
