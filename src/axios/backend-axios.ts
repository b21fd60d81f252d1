// Type-only imports: this module never loads axios, so axios stays an optional peer dependency.
import type { AxiosError, AxiosInstance, AxiosResponse, InternalAxiosRequestConfig } from "axios";
import type { BackendAuth } from "../backend-auth.js";
import { BackendAuthError } from "../model/errors.js";
import { type RefreshMode, TERMINAL_SESSION_ERRORS } from "../model/types.js";

/** Options of {@link withBackendAuth}. */
export interface BackendAxiosOptions {
  /**
   * The current session's backend credentials, e.g.
   * `(mode) => getBackendAuth(config, request, { refresh: mode })`. Called with `"never"` before
   * each request to the backend, and with `"force"` at most once per request, after the backend
   * answered 401 (refresh through the coordinator: concurrent 401s make one backend refresh).
   * Where you can save the rotated session (`auth.refreshed`: re-encode `auth.token` into the
   * session cookie), you may map `"never"` to `"auto"`; see {@link RefreshMode}.
   */
  getAuth(mode: RefreshMode): Promise<BackendAuth>;
  /**
   * The backend's URL. Only requests to its origin receive credentials; requests to any other
   * origin are sent untouched. Requests without a `baseURL` of their own resolve against it.
   * @default instance.defaults.baseURL (one of the two is required)
   */
  baseUrl?: string | URL;
  /**
   * Called when `getAuth` throws a {@link BackendAuthError} saying the session has ended (a code
   * of `TERMINAL_SESSION_ERRORS`) or there is none (`NoSession`): sign the user out or redirect
   * to sign-in here. The request then fails with that error, unless the handler throws its own.
   * Other errors of `getAuth` (`RefreshUnavailable`, `BackendUnavailable`) fail the request as
   * they are.
   * @default none: the request fails with the error
   */
  onSessionEnded?: (error: BackendAuthError) => unknown;
}

/** Where a request stands: credentials attached, or attached again after a 401 (never retried). */
const MARK = "authjsBackendCredentials";
type Marked = InternalAxiosRequestConfig & { [MARK]?: "attached" | "retried" };

/**
 * Installs a request/response interceptor pair on `instance` (and returns it) that calls your
 * backend as the signed-in user, with the same contract as the Next.js `backend.fetch`:
 * - before each request to the backend's origin, attaches `Authorization: Bearer <access token>`
 *   and the session's backend cookies for that URL (`getAuth("never")`);
 * - on a 401 from the backend, gets fresh credentials once (`getAuth("force")`, or the ones
 *   another request already obtained) and retries the request once; a second 401 is returned;
 * - an ended session (or none) goes to `onSessionEnded`.
 *
 * Never import axios for this: pass your own instance. Requests to other origins are untouched.
 *
 * @example
 * ```ts
 * const api = withBackendAuth(axios.create({ baseURL: process.env.BACKEND_URL }), {
 *   getAuth: (mode) => getBackendAuth(config, request, { refresh: mode }),
 * });
 * const { data } = await api.get("/api/items");
 * ```
 */
export function withBackendAuth(
  instance: AxiosInstance,
  options: BackendAxiosOptions,
): AxiosInstance {
  const configured = options.baseUrl ?? instance.defaults.baseURL;
  let base: URL;
  try {
    base = new URL(String(configured));
  } catch {
    throw new TypeError(
      "withBackendAuth: pass options.baseUrl or create the instance with an absolute baseURL",
    );
  }

  async function authFor(mode: RefreshMode): Promise<BackendAuth> {
    try {
      return await options.getAuth(mode);
    } catch (error) {
      if (error instanceof BackendAuthError && hasEnded(error))
        await options.onSessionEnded?.(error);
      throw error;
    }
  }

  /** The absolute URL of a request to the backend's origin; `undefined` for any other. */
  function backendUrl(config: Marked): URL | undefined {
    if (config.baseURL === undefined && options.baseUrl !== undefined) config.baseURL = base.href;
    try {
      const target = new URL(instance.getUri(config), base);
      return target.origin === base.origin ? target : undefined;
    } catch {
      return undefined;
    }
  }

  function attach(config: Marked, auth: BackendAuth, url: URL): void {
    for (const [name, value] of auth.headers(url)) config.headers.set(name, value);
  }

  async function retryOnce(config: Marked): Promise<AxiosResponse> {
    const url = backendUrl(config);
    if (!url) throw new TypeError("withBackendAuth: a retried request left the backend's origin");
    const sent = String(config.headers.get("authorization") ?? "");
    // Another request may have refreshed since this one was sent: use its token, else refresh.
    let auth = await authFor("never").catch((error: unknown) => {
      if (error instanceof BackendAuthError && error.transient) return undefined;
      throw error;
    });
    if (!auth || `Bearer ${auth.accessToken}` === sent) auth = await authFor("force");
    attach(config, auth, url);
    config[MARK] = "retried";
    return instance.request(config);
  }

  instance.interceptors.request.use(async (request) => {
    const config = request as Marked;
    if (config[MARK] === "retried") return config; // credentials attached by retryOnce
    const url = backendUrl(config);
    if (!url) return config;
    attach(config, await authFor("never"), url);
    config[MARK] = "attached";
    return config;
  });

  instance.interceptors.response.use(
    // A 401 arrives here when the caller's validateStatus accepts it.
    (response) => {
      const config = response.config as Marked;
      return response.status === 401 && config[MARK] === "attached" ? retryOnce(config) : response;
    },
    (error: unknown) => {
      const { response, config } = (isAxiosError(error) ? error : {}) as Partial<AxiosError>;
      if (response?.status === 401 && config && (config as Marked)[MARK] === "attached") {
        return retryOnce(config as Marked);
      }
      throw error;
    },
  );
  return instance;
}

/** `true` for a session that has ended (a terminal session error) or does not exist. */
function hasEnded(error: BackendAuthError): boolean {
  return (
    error.code === "NoSession" ||
    (TERMINAL_SESSION_ERRORS as readonly string[]).includes(error.code)
  );
}

function isAxiosError(error: unknown): error is AxiosError {
  return typeof error === "object" && error !== null && "isAxiosError" in error;
}
