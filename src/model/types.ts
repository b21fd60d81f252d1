/**
 * The signed-in user as the backend describes it. `mapUser` produces it; extra fields are kept
 * and reach `session.user`.
 */
export interface BackendUser extends BackendUserExtras {
  /** Stable user id. */
  id: string;
  /** Display name. */
  name?: string | null;
  /** Email address. */
  email?: string | null;
  /** Avatar URL (`image`, `picture` or `avatar` in the backend's profile). */
  image?: string | null;
  /** Roles used by `allowedRoles` and exposed on `session.user.roles`. @default [] */
  roles: string[];
  /** Any other profile field (e.g. `department`). Must be JSON-serialisable. */
  [field: string]: unknown;
}

/**
 * Extra profile fields your app keeps (`profileFields`) or maps itself (`mapUser`). Empty here;
 * declare them once in your app and they are typed on `BackendUser` and `session.user`:
 *
 * @example
 * ```ts
 * declare module "authjs-backend-credentials" {
 *   interface BackendUserExtras { department?: string }
 * }
 * // session.user.department: string | undefined
 * ```
 */
// biome-ignore lint/suspicious/noEmptyInterface: filled in by the app through declaration merging
export interface BackendUserExtras {}

/** What `mapUser` receives besides the profile. */
export interface MapUserContext {
  /** The access token's decoded claims, when it is a JWT (not verified: for mapping only). */
  claims: Record<string, unknown> | undefined;
  /** The login response body, when the profile comes from `endpoints.profile`. */
  loginBody: unknown;
}

/**
 * Why a session can no longer call the backend, as exposed on `session.error`.
 *
 * - `RefreshTokenRejected`: the backend refused the refresh token (400/401/403 or `invalid_grant`,
 *   e.g. revoked, reused or expired at the backend). Final: sign the user out.
 * - `RefreshTokenExpired`: the refresh token's known expiry has passed. Final.
 * - `AccessTokenExpired`: the access token expired and no refresh endpoint is configured. Final.
 * - `AccessRevoked`: re-reading the profile after a refresh found the user no longer allowed
 *   (`allowedRoles`, `authorizeUser`), or the profile endpoint refused the new token (401/403,
 *   e.g. a deactivated user). Final.
 * - `RefreshUnavailable`: the last refresh failed for a transient reason (network, timeout, 429,
 *   5xx). The user stays signed in; the refresh is retried with backoff.
 */
export type BackendSessionError =
  | "RefreshTokenRejected"
  | "RefreshTokenExpired"
  | "AccessTokenExpired"
  | "AccessRevoked"
  | "RefreshUnavailable";

/** The errors after which the session cannot recover; the app should sign the user out. */
export const TERMINAL_SESSION_ERRORS: readonly BackendSessionError[] = [
  "RefreshTokenRejected",
  "RefreshTokenExpired",
  "AccessTokenExpired",
  "AccessRevoked",
];

/** A backend cookie as kept in the encrypted session. */
export interface StoredCookie {
  name: string;
  /** The value exactly as the backend sent it (no decoding). */
  value: string;
  /** Cookie path; only requests under it receive the cookie. @default "/" */
  path?: string;
  /** Absolute expiry in seconds since the epoch (our clock); absent for session cookies. */
  expiresAt?: number;
  /** The backend's `HttpOnly` flag (mirrored copies are always HttpOnly). */
  httpOnly?: boolean;
  /** The backend's `Secure` flag (not enforced server-to-server; mirrored copies use our protocol). */
  secure?: boolean;
  /** The backend's `SameSite`; copies mirrored to the browser use at least `lax`. */
  sameSite?: "lax" | "strict" | "none";
}

/**
 * What this package keeps in the Auth.js JWT under `token.backend`. The JWT is encrypted in the
 * session cookie; nothing here reaches the client unless the `session` callback copies it.
 */
export interface BackendTokenState {
  /** Id of the BackendCredentials provider that created the session. */
  provider: string;
  /** Access token, when it came in the JSON body (cookie-borne tokens stay in `cookies` only). */
  accessToken?: string;
  /** When the access token expires, seconds since the epoch on our clock. */
  accessTokenExpiresAt?: number;
  /** When the current access token was received, seconds since the epoch. */
  receivedAt: number;
  /** When the user signed in (the first tokens' `receivedAt`), seconds since the epoch. */
  signedInAt?: number;
  /** Refresh token, when it came in the JSON body. */
  refreshToken?: string;
  /** When the refresh token expires, seconds since the epoch on our clock, when known. */
  refreshTokenExpiresAt?: number;
  /**
   * The body field the refresh token came in, when it is sent back under that name (no
   * `refreshTokenTransport` or `refreshBody` configured): `refresh_token` in, `refresh_token` out.
   */
  refreshTokenField?: string;
  /** The backend's cookies. */
  cookies: StoredCookie[];
  /** The user's profile and roles. */
  user: BackendUser;
  /** When the profile was last read, seconds since the epoch (see `profileRevalidationSeconds`). */
  profileReadAt?: number;
  /** Set when the last refresh failed; see {@link BackendSessionError}. */
  error?: BackendSessionError;
}

/** What the `session` callback adds to Auth.js's session. */
export interface BackendSessionFields {
  /** Set when the backend session is in trouble; see {@link BackendSessionError}. */
  error?: BackendSessionError;
  /** When the access token expires, seconds since the epoch. Absent once the session has ended. */
  accessTokenExpiresAt?: number;
  /** The access token; only present with `exposeAccessToken: true`. */
  accessToken?: string;
}

declare module "@auth/core/types" {
  interface Session extends BackendSessionFields {}
  interface User extends BackendUserExtras {
    /** Roles from the backend profile. */
    roles?: string[];
  }
}

declare module "@auth/core/jwt" {
  interface JWT {
    /** State kept by authjs-backend-credentials (tokens, cookies, profile). Server-side only. */
    backend?: BackendTokenState;
  }
}

/**
 * Whether a session read may refresh the access token. One vocabulary for every entry point
 * (`withBackend({ refresh })`, `getBackendAuth(…, { refresh })`, the Next.js layer):
 * - `"auto"`: when it is due (within `refreshBufferSeconds` of expiry). Only where the rotated
 *   session cookie is saved (route handlers, the proxy, the Auth.js session endpoint).
 * - `"never"`: not at all; sessions whose tokens have expired are still reported as ended. For
 *   contexts whose response cannot save the rotated cookie (React Server Components): rotating
 *   there would retire a refresh token the browser keeps.
 * - `"force"`: now, even when not due (e.g. after the backend answered 401 to the access token).
 */
export type RefreshMode = "auto" | "never" | "force";

/** @internal The three {@link RefreshMode} values, for option checks. */
export const REFRESH_MODES: readonly RefreshMode[] = ["auto", "never", "force"];
