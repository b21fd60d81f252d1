import { redirect } from "next/navigation";
import { type BackendAuth, backendAuthFromToken } from "../backend-auth.js";
import { BackendAuthError } from "../model/errors.js";
import { runtimeFor, runtimeOf } from "../session/runtime.js";
import { readSessionToken, stateOf } from "../session/session-cookie.js";
import type { NextContext } from "./context.js";
import { currentRequest, pathWithParams } from "./request-info.js";
import { staleMarker } from "./stale-marker.js";

/**
 * A `fetch` for calling your backend from server code (Server Components, server actions, route
 * handlers). Relative paths resolve against the provider's `baseUrl`; only the backend's origin
 * receives credentials.
 *
 * It attaches `Authorization: Bearer <access token>` and the session's backend cookies. It never
 * writes cookies itself (so it never triggers "Cookies can only be modified in a Server Action or
 * Route Handler"); when the session needs a write it redirects through a route handler instead:
 * - no session → the sign-in page with a same-origin `callbackUrl`;
 * - access token expired here, or the backend answers 401 → `refreshPath`, which refreshes once,
 *   saves the cookie and redirects back (so the request is retried once, with the new token);
 * - session ended (refresh rejected/expired) → `expiredPath`, which signs out.
 */
export type BackendFetch = (input: string | URL, init?: RequestInit) => Promise<Response>;

/** @internal The current request's credentials, with what a redirect through `refreshPath` needs. */
export interface ResolvedAuth {
  auth: BackendAuth;
  /** The page being rendered: the `callbackUrl` of our redirects. */
  path: string;
  /** The `stale` marker of the session, for the refresh route (an HMAC: computed only when needed). */
  stale: () => Promise<string>;
}

/**
 * @internal The one rule of the Next.js layer for "credentials now, without writing cookies"
 * (`backend.fetch`, `backend.getAuth`, `backend.axios`): returns a valid access token, or
 * redirects: no session → sign-in; expired here → `refreshPath`; ended → `expiredPath`.
 */
export async function resolveAuth(context: NextContext): Promise<ResolvedAuth> {
  const config = context.config("never");
  const request = await currentRequest();
  const { signInPath, expiredPath } = context.options;
  const token = await readSessionToken(config, request);
  const state = stateOf(token);
  if (!token || !state) redirect(pathWithParams(signInPath, { callbackUrl: request.path }));
  const stale = () => staleMarker(config, state);
  try {
    const auth = await backendAuthFromToken(config, token, { refresh: "never" });
    return { auth, path: request.path, stale };
  } catch (error) {
    if (!(error instanceof BackendAuthError)) throw error;
    if (error.code === "NoSession") {
      redirect(pathWithParams(signInPath, { callbackUrl: request.path }));
    }
    if (!error.transient) redirect(pathWithParams(expiredPath, { callbackUrl: request.path }));
    // Expired here and not refreshable without a cookie write: refresh in the route handler.
    return refreshRedirect(context, { path: request.path, stale });
  }
}

/**
 * @internal After the backend answered 401 (or the token expired here): redirect through
 * `refreshPath`, which refreshes once, saves the cookie and redirects back to `path`.
 */
export async function refreshRedirect(
  context: NextContext,
  { path, stale }: Pick<ResolvedAuth, "path" | "stale">,
): Promise<never> {
  redirect(
    pathWithParams(context.options.refreshPath, { callbackUrl: path, stale: await stale() }),
  );
}

/** @internal The `baseUrl` of the provider that made the session (or the first one). */
export function backendBaseUrl(context: NextContext, auth?: BackendAuth): URL {
  const providers = context.config("never").providers;
  const id = auth?.token.backend?.provider;
  const runtime =
    id === undefined ? providers.map(runtimeOf).find(Boolean) : runtimeFor(providers, id);
  if (!runtime) throw new BackendAuthError("NoSession", "no BackendCredentials provider");
  return runtime.options.baseUrl;
}

/** @internal */
export function createBackendFetch(context: NextContext): {
  fetch: BackendFetch;
  getAuth: () => Promise<BackendAuth>;
} {
  const backendFetch: BackendFetch = async (input, init = {}) => {
    const resolved = await resolveAuth(context);
    const baseUrl = backendBaseUrl(context, resolved.auth);
    const target = new URL(input, baseUrl);
    if (target.origin !== baseUrl.origin) {
      throw new TypeError("backend.fetch: only URLs on the backend's origin receive credentials");
    }
    const response = await fetch(target, {
      ...init,
      headers: resolved.auth.headers(target, init.headers),
      cache: init.cache ?? "no-store",
    });
    if (response.status === 401) {
      // Not awaited: under Next.js's patched fetch the body is tee'd and cancel() never settles.
      void response.body?.cancel().catch(() => {});
      return refreshRedirect(context, resolved);
    }
    return response;
  };

  return { fetch: backendFetch, getAuth: async () => (await resolveAuth(context)).auth };
}
