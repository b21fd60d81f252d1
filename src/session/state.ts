import type { ResolvedEndpoint } from "../model/options.js";
import {
  type BackendSessionError,
  type BackendTokenState,
  TERMINAL_SESSION_ERRORS,
} from "../model/types.js";
import { callBackend } from "./backend-http.js";
import { cookieHeaderFor, jarValue } from "./cookie-jar.js";
import type { Runtime } from "./runtime.js";

export const nowSeconds = (runtime: Runtime) => runtime.options.now() / 1000;

/** @internal The access token's value (body-borne or from its cookie), if the session has one. */
export function accessTokenOf(runtime: Runtime, state: BackendTokenState): string | undefined {
  if (state.accessToken) return state.accessToken;
  const name = runtime.options.accessToken.cookie;
  return name ? jarValue(state.cookies, name, nowSeconds(runtime)) : undefined;
}

/**
 * The refresh grant of a session: the refresh token (from the body, or the refresh cookie the
 * refresh endpoint would receive), and the key that identifies it for single flight and the grace
 * cache. Without a distinct refresh token the grant is the cookies sent to the refresh endpoint:
 * they become the key, and nothing but those cookies is sent.
 */
export function refreshGrantOf(
  runtime: Runtime,
  state: BackendTokenState,
  now = nowSeconds(runtime),
): { key: string; token?: string } | undefined {
  const { refreshToken, refresh } = runtime.options;
  const token =
    state.refreshToken ??
    (refreshToken.cookie
      ? jarValue(state.cookies, refreshToken.cookie, now, refresh?.url)
      : undefined);
  if (token) return { key: token, token };
  if (refreshToken.cookie || !refresh) return undefined;
  const cookies = cookieHeaderFor(state.cookies, refresh.url, now);
  return cookies ? { key: cookies } : undefined;
}

/** Calls an endpoint as the signed-in user: Bearer access token plus the backend cookies. */
export function callWithSession(
  runtime: Runtime,
  endpoint: ResolvedEndpoint,
  state: BackendTokenState,
) {
  return callBackend(runtime.options, endpoint, {
    bearer: accessTokenOf(runtime, state),
    jar: state.cookies,
    nowSeconds: nowSeconds(runtime),
  });
}

/** `true` when the state can no longer be used to call the backend. */
export function isEnded(state: BackendTokenState): boolean {
  return state.error !== undefined && TERMINAL_SESSION_ERRORS.includes(state.error);
}

/**
 * @internal Seconds before expiry at which the access token is refreshed: `refreshBufferSeconds`,
 * capped at half the token's lifetime.
 */
function refreshAt(runtime: Runtime, state: BackendTokenState): number {
  const expiresAt = state.accessTokenExpiresAt ?? 0;
  const lifetime = Math.max(0, expiresAt - state.receivedAt);
  return expiresAt - Math.min(runtime.options.refreshBufferSeconds, lifetime / 2);
}

/** @internal `true` when the access token is due for a refresh now. */
export function needsRefresh(runtime: Runtime, state: BackendTokenState): boolean {
  if (isEnded(state)) return false;
  const now = nowSeconds(runtime);
  // Without a refresh endpoint there is nothing to do before the token actually expires.
  if (!runtime.options.refresh) return now >= (state.accessTokenExpiresAt ?? 0);
  return now >= refreshAt(runtime, state);
}

/** Ends the session: drops tokens and backend cookies, keeps the profile, records why. */
export function ended(state: BackendTokenState, error: BackendSessionError): BackendTokenState {
  return {
    provider: state.provider,
    receivedAt: state.receivedAt,
    ...(state.signedInAt !== undefined && { signedInAt: state.signedInAt }),
    cookies: [],
    user: state.user,
    error,
  };
}

export const eventBase = (runtime: Runtime, state: BackendTokenState) => ({
  provider: runtime.options.id,
  userId: state.user.id || undefined,
});

/**
 * @internal The body of a call that carries the refresh token (refresh, logout): back in the
 * field it came in when the session recorded one (`refresh_token` in, `refresh_token` out), else
 * what the configured builder makes of it.
 */
export function grantBody(
  runtime: Runtime,
  state: BackendTokenState,
  token: string | undefined,
  build: (token: string | undefined) => Record<string, unknown> | undefined,
): Record<string, unknown> | undefined {
  return token && state.refreshTokenField && runtime.options.echoRefreshField
    ? { [state.refreshTokenField]: token }
    : build(token);
}
