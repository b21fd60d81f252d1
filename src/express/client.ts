import type { Response as ExpressResponse, Request } from "express";
import { type BackendAuth, backendAuthFromToken } from "../backend-auth.js";
import { BackendAuthError } from "../model/errors.js";
import { runtimeFor } from "../session/runtime.js";
import { stateOf } from "../session/session-cookie.js";
import { needsRefresh } from "../session/state.js";
import { currentToken, type ExpressContext, refreshSession } from "./context.js";

/**
 * A `fetch` for calling your backend as the signed-in user. Relative paths resolve against the
 * provider's `baseUrl`; only the backend's origin receives credentials (another origin throws
 * `TypeError`).
 *
 * It attaches `Authorization: Bearer <access token>` and the session's backend cookies. When the
 * backend answers **401**, the session is refreshed once (mode `"force"`, through the coordinator,
 * so concurrent 401s share one backend refresh; the rotated cookie is written to the response) and
 * the request is retried once. A request body that is a stream cannot be sent twice: its 401 is
 * returned after the refresh. Throws {@link BackendAuthError}, which `endedSession()` answers:
 * `NoSession`; the session error when the session has ended (refresh rejected or expired);
 * `AccessRevoked` when the backend also rejects the freshly refreshed token; `RefreshUnavailable`
 * when the access token has expired (or was rejected) and cannot be refreshed now.
 */
export type BackendFetch = (input: string | URL, init?: RequestInit) => Promise<Response>;

/** What `backendSession()` puts on `res.locals.backend` for the routes after it. */
export interface ExpressBackend {
  /**
   * The backend credentials of this request's session (refreshed first when due and the response
   * can still take the cookie). Throws {@link BackendAuthError} like {@link BackendFetch}.
   */
  auth(): Promise<BackendAuth>;
  /** The 401-safe backend client: see {@link BackendFetch}. */
  fetch: BackendFetch;
}

/** @internal The client of one request; `refreshIfDue` is what the middleware runs. */
export function createExpressBackend(
  context: ExpressContext,
  req: Request,
  res: ExpressResponse,
): ExpressBackend & { refreshIfDue(): Promise<void> } {
  // One refresh at a time per request: parallel calls of one route share it.
  let refreshing: Promise<unknown> | undefined;
  const refresh = (mode: "auto" | "force") => {
    refreshing ??= refreshSession(context, req, res, mode).finally(() => {
      refreshing = undefined;
    });
    return refreshing;
  };

  /** Refreshes a due session where the response can still take the cookie. */
  async function refreshIfDue(): Promise<void> {
    if (refreshing) await refreshing.catch(() => {});
    const config = context.config("auto");
    const state = stateOf(await currentToken(context, req));
    const runtime = state && runtimeFor(config.providers, state.provider);
    if (state && runtime && needsRefresh(runtime, state) && !res.headersSent) {
      await refresh("auto");
    }
  }

  async function auth(): Promise<BackendAuth> {
    await refreshIfDue();
    const token = await currentToken(context, req);
    if (!token) throw new BackendAuthError("NoSession", "no valid session cookie on the request");
    return backendAuthFromToken(context.config("never"), token, { refresh: "never" });
  }

  /** The credentials to retry with after `rejected` (an access token) was answered with 401. */
  async function authAfter401(rejected: string): Promise<BackendAuth> {
    let current = await auth();
    // Another call of this request may have refreshed meanwhile: use its token.
    if (current.accessToken !== rejected || res.headersSent) return current;
    await refresh("force");
    current = await auth();
    if (current.accessToken === rejected) {
      throw new BackendAuthError(
        "RefreshUnavailable",
        "the backend rejected the access token and it could not be refreshed now",
      );
    }
    return current;
  }

  const backendFetch: BackendFetch = async (input, init = {}) => {
    const first = await auth();
    const provider = first.token.backend?.provider ?? "";
    const baseUrl = runtimeFor(context.config("never").providers, provider)?.options.baseUrl;
    if (!baseUrl) throw new BackendAuthError("NoSession", "no BackendCredentials provider");
    const target = new URL(input, baseUrl);
    if (target.origin !== baseUrl.origin) {
      throw new TypeError(
        "res.locals.backend.fetch: only URLs on the backend's origin receive credentials",
      );
    }
    const send = (auth: BackendAuth) =>
      fetch(target, { ...init, headers: auth.headers(target, init.headers) });
    const response = await send(first);
    if (response.status !== 401) return response;
    if (init.body instanceof ReadableStream) {
      await authAfter401(first.accessToken).catch(() => {});
      return response;
    }
    void response.body?.cancel().catch(() => {});
    const retried = await send(await authAfter401(first.accessToken));
    if (retried.status === 401) {
      void retried.body?.cancel().catch(() => {});
      throw new BackendAuthError(
        "AccessRevoked",
        "the backend rejected a freshly refreshed access token",
        { status: 401 },
      );
    }
    return retried;
  };

  return { auth, fetch: backendFetch, refreshIfDue };
}
