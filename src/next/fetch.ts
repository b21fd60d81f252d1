import { redirect } from "next/navigation";
import { type BackendAuth, backendAuthFromToken } from "../backend-auth.js";
import { BackendAuthError } from "../model/errors.js";
import { runtimeFor } from "../session/runtime.js";
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

/** @internal */
export function createBackendFetch(context: NextContext): {
  fetch: BackendFetch;
  getAuth: () => Promise<BackendAuth>;
} {
  async function resolveAuth(): Promise<{ auth: BackendAuth; path: string; stale: string }> {
    const config = context.config("never");
    const request = await currentRequest();
    const { signInPath, refreshPath, expiredPath } = context.options;
    const token = await readSessionToken(config, request);
    const state = stateOf(token);
    if (!token || !state) redirect(pathWithParams(signInPath, { callbackUrl: request.path }));
    const stale = await staleMarker(config, state);
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
      redirect(pathWithParams(refreshPath, { callbackUrl: request.path, stale }));
    }
  }

  const backendFetch: BackendFetch = async (input, init = {}) => {
    const { auth, path, stale } = await resolveAuth();
    const config = context.config("never");
    const provider = auth.token.backend?.provider ?? "";
    const baseUrl = runtimeFor(config.providers, provider)?.options.baseUrl;
    if (!baseUrl) throw new BackendAuthError("NoSession", "no BackendCredentials provider");
    const target = new URL(input, baseUrl);
    if (target.origin !== baseUrl.origin) {
      throw new TypeError("backend.fetch: only URLs on the backend's origin receive credentials");
    }
    const response = await fetch(target, {
      ...init,
      headers: auth.headers(target, init.headers),
      cache: init.cache ?? "no-store",
    });
    if (response.status === 401) {
      // Not awaited: under Next.js's patched fetch the body is tee'd and cancel() never settles.
      void response.body?.cancel().catch(() => {});
      redirect(pathWithParams(context.options.refreshPath, { callbackUrl: path, stale }));
    }
    return response;
  };

  return { fetch: backendFetch, getAuth: async () => (await resolveAuth()).auth };
}
