import type { AuthConfig } from "@auth/core";
import { getToken, type JWT } from "@auth/core/jwt";
import { cookieHeaderFor } from "./cookies.js";
import { BackendAuthError } from "./errors.js";
import { accessTokenOf, isEnded, refreshIfNeeded } from "./lib/backend-session.js";
import { type Runtime, runtimeFor } from "./lib/runtime.js";
import type { BackendTokenState, BackendUser } from "./types.js";

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

/** Options of {@link getBackendAuth}. */
export interface GetBackendAuthOptions {
  /**
   * Whether a due refresh may run here. Off by default because a rotation is only safe where its
   * result is saved: with `true`, re-encode `auth.token` into the session cookie of your response
   * whenever `auth.refreshed` is set, or the browser keeps a refresh token the backend has retired
   * (and a strict backend ends the session once the grace period is over). With `false`, a
   * still-valid access token is returned and an expired one throws `BACKEND_UNAVAILABLE`: let the
   * Auth.js session route (or the Next.js proxy) refresh, where the cookie is written.
   * @default false
   */
  allowRefresh?: boolean;
}

type ConfigWithSecret = Pick<AuthConfig, "providers" | "secret" | "cookies" | "useSecureCookies">;

/**
 * Reads the session cookie of `request` and returns what a server-side call to the backend needs
 * (refreshing a due access token only with `allowRefresh: true`). Framework-agnostic: works with any request that
 * carries the Auth.js session cookie.
 *
 * Throws {@link BackendAuthError}: `NO_SESSION` (no or undecryptable cookie), `SESSION_ENDED`
 * (refresh rejected or expired: sign the user out), `BACKEND_UNAVAILABLE` (the access token has
 * expired and the backend cannot refresh it right now).
 *
 * The secret is `config.secret`, else the `AUTH_SECRET` environment variable.
 */
export async function getBackendAuth(
  config: ConfigWithSecret,
  request: Request | { headers: Headers; url?: string },
  options: GetBackendAuthOptions = {},
): Promise<BackendAuth> {
  const secret = config.secret ?? process.env.AUTH_SECRET ?? process.env.NEXTAUTH_SECRET;
  const secureCookie = config.useSecureCookies ?? request.url?.startsWith("https://") ?? false;
  const token = await getToken({
    req: request,
    secret,
    secureCookie,
    ...(config.cookies?.sessionToken?.name && { cookieName: config.cookies.sessionToken.name }),
  });
  if (!token) throw new BackendAuthError("NO_SESSION", "no valid session cookie on the request");
  return backendAuthFromToken(config, token, options);
}

/**
 * Like {@link getBackendAuth}, for a session JWT you already hold (e.g. inside a `jwt` callback).
 */
export async function backendAuthFromToken(
  config: Pick<AuthConfig, "providers">,
  token: JWT,
  { allowRefresh = false }: GetBackendAuthOptions = {},
): Promise<BackendAuth> {
  const state = token.backend;
  const runtime = state && runtimeFor(config.providers, state.provider);
  if (!state || !runtime) {
    throw new BackendAuthError("NO_SESSION", "the session was not created by BackendCredentials");
  }
  const next = await refreshIfNeeded(runtime, state, { allowRefresh });
  if (isEnded(next)) {
    throw new BackendAuthError("SESSION_ENDED", `the backend session has ended (${next.error})`);
  }
  const accessToken = accessTokenOf(runtime, next);
  const expired = (next.accessTokenExpiresAt ?? 0) <= runtime.options.now() / 1000;
  if (!accessToken || expired) {
    throw new BackendAuthError(
      "BACKEND_UNAVAILABLE",
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
