import type { AuthConfig } from "@auth/core";
import type { JWT } from "@auth/core/jwt";
import { oneOf } from "./lib/option-checks.js";
import { BackendAuthError } from "./model/errors.js";
import {
  type BackendTokenState,
  type BackendUser,
  REFRESH_MODES,
  type RefreshMode,
} from "./model/types.js";
import { cookieHeaderFor } from "./session/cookie-jar.js";
import { refreshIfNeeded } from "./session/refresh.js";
import { type Runtime, runtimeFor } from "./session/runtime.js";
import {
  readSessionToken,
  type SessionCookieConfig,
  type SessionRequest,
} from "./session/session-cookie.js";
import { accessTokenOf, isEnded } from "./session/state.js";

/** Credentials for calling the backend as the signed-in user. */
export interface BackendAuth {
  /** A valid access token. */
  accessToken: string;
  /** When it expires, seconds since the epoch. */
  accessTokenExpiresAt: number | undefined;
  /** The signed-in user's profile. */
  user: BackendUser;
  /** The backend cookies that apply to `url` as a `Cookie` header value, if any. */
  cookieHeader(url: string | URL): string | undefined;
  /** Request headers for a backend call to `url`: `Authorization: Bearer …` and `Cookie`, merged into `init`. */
  headers(url: string | URL, init?: HeadersInit): Headers;
  /** The session's JWT after any refresh. Persist it (re-encode the session cookie) where possible. */
  token: JWT;
  /** `true` when this call rotated (or picked up rotated) tokens: persist `token`, or the rotation is lost. */
  refreshed: boolean;
}

/** Options of {@link getBackendAuth} and {@link backendAuthFromToken}. */
export interface GetBackendAuthOptions {
  /**
   * Whether a due refresh may run here (see {@link RefreshMode}). `"never"` by default because a
   * rotation is only safe where its result is saved: with `"auto"` (or `"force"`), re-encode
   * `auth.token` into the session cookie of your response whenever `auth.refreshed` is set, or
   * the browser keeps a refresh token the backend has retired (and a strict backend ends the
   * session once the grace period is over). With `"never"`, a still-valid access token is
   * returned and an expired one throws `RefreshUnavailable`: let the Auth.js session route (or
   * the Next.js proxy) refresh, where the cookie is written.
   * @default "never"
   */
  refresh?: RefreshMode;
}

/** The part of an Auth.js config that {@link getBackendAuth} reads. */
export type GetBackendAuthConfig = Pick<AuthConfig, "providers"> & SessionCookieConfig;

/**
 * Reads the session cookie of `request` and returns what a server-side call to the backend needs
 * (refreshing a due access token only with `refresh: "auto"`). Framework-agnostic: works with
 * any request that carries the Auth.js session cookie. The cookie is the one Auth.js itself uses
 * for the request (`__Secure-authjs.session-token` when the browser is on https, by `AUTH_URL`,
 * `X-Forwarded-Proto` or the URL; `config.cookies` and `useSecureCookies` respected); the secret
 * is `config.secret`, else the `AUTH_SECRET*` environment variables, as in Auth.js.
 *
 * Throws {@link BackendAuthError}: `NoSession` (no or undecryptable cookie); the session error
 * (`RefreshTokenRejected`, `RefreshTokenExpired`, `AccessTokenExpired`) when the session has
 * ended: sign the user out; `RefreshUnavailable` when the access token has expired and cannot be
 * refreshed here or now (transient).
 */
export async function getBackendAuth(
  config: GetBackendAuthConfig,
  request: Request | SessionRequest,
  options: GetBackendAuthOptions = {},
): Promise<BackendAuth> {
  const token = await readSessionToken(config, request);
  if (!token) throw new BackendAuthError("NoSession", "no valid session cookie on the request");
  return backendAuthFromToken(config, token, options);
}

/**
 * Like {@link getBackendAuth}, for a session JWT you already hold (e.g. inside a `jwt` callback).
 */
export async function backendAuthFromToken(
  config: Pick<AuthConfig, "providers">,
  token: JWT,
  options: GetBackendAuthOptions = {},
): Promise<BackendAuth> {
  if ("allowRefresh" in options) {
    throw new TypeError(
      'getBackendAuth: option allowRefresh was replaced by refresh ("auto", "never" or "force")',
    );
  }
  const mode = oneOf("getBackendAuth", "refresh", options.refresh, REFRESH_MODES, "never");
  const state = token.backend;
  const runtime = state && runtimeFor(config.providers, state.provider);
  if (!state || !runtime) {
    throw new BackendAuthError("NoSession", "the session was not created by BackendCredentials");
  }
  const next = await refreshIfNeeded(runtime, state, mode);
  if (next.error && isEnded(next)) {
    throw new BackendAuthError(next.error, `the backend session has ended (${next.error})`);
  }
  const accessToken = accessTokenOf(runtime, next);
  const expired = (next.accessTokenExpiresAt ?? 0) <= runtime.options.now() / 1000;
  if (!accessToken || expired) {
    throw new BackendAuthError(
      "RefreshUnavailable",
      "the access token has expired and could not be refreshed now",
    );
  }
  const refreshed = next.receivedAt !== state.receivedAt;
  return toBackendAuth(
    runtime,
    next,
    next === state ? token : { ...token, backend: next },
    accessToken,
    refreshed,
  );
}

function toBackendAuth(
  runtime: Runtime,
  state: BackendTokenState,
  token: JWT,
  accessToken: string,
  refreshed: boolean,
): BackendAuth {
  const nowSeconds = () => runtime.options.now() / 1000;
  const cookieHeader = (url: string | URL) =>
    cookieHeaderFor(state.cookies, new URL(url, runtime.options.baseUrl), nowSeconds());
  return {
    accessToken,
    accessTokenExpiresAt: state.accessTokenExpiresAt,
    user: state.user,
    cookieHeader,
    headers(url, init) {
      const headers = new Headers(init);
      headers.set("authorization", `Bearer ${accessToken}`);
      const cookie = cookieHeader(url);
      if (cookie) headers.set("cookie", cookie);
      return headers;
    },
    token,
    refreshed,
  };
}
