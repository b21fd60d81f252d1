import { CredentialsSignin } from "@auth/core/errors";

/**
 * Every code a {@link BackendAuthError} can carry. `switch (error.code)` narrows on it.
 *
 * - `BACKEND_UNAVAILABLE`: network error, timeout, 429 or 5xx. Transient: try again later.
 * - `BACKEND_RESPONSE_INVALID`: the backend answered 2xx but the response lacks what the
 *   options say it holds (a token, an expiry, JSON). Misconfiguration: fix the options.
 * - `SESSION_ENDED`: the session holds no usable tokens any more (refresh rejected or expired).
 * - `NO_SESSION`: there is no session cookie, or it cannot be decrypted.
 */
export type BackendAuthErrorCode =
  | "BACKEND_UNAVAILABLE"
  | "BACKEND_RESPONSE_INVALID"
  | "SESSION_ENDED"
  | "NO_SESSION";

/**
 * Base class of the errors this package throws at run time. Misuse of the API (bad options)
 * throws a plain `TypeError` naming the option instead.
 *
 * Messages never contain tokens, cookie values or backend response bodies.
 */
export class BackendAuthError extends Error {
  /** A literal code; see {@link BackendAuthErrorCode}. */
  readonly code: BackendAuthErrorCode;
  /** The backend's HTTP status, when the error comes from a backend response. */
  readonly status: number | undefined;
  /** The backend's OAuth-style `error` field (e.g. `invalid_grant`), when it sent one. */
  readonly backendError: string | undefined;

  constructor(
    code: BackendAuthErrorCode,
    message: string,
    options: { cause?: unknown; status?: number; backendError?: string } = {},
  ) {
    super(message, { cause: options.cause });
    this.name = this.constructor.name;
    this.code = code;
    this.status = options.status;
    this.backendError = options.backendError;
  }

  /** `true` when retrying later may succeed (network, timeout, 429, 5xx). */
  get transient(): boolean {
    return this.code === "BACKEND_UNAVAILABLE";
  }
}

/**
 * Codes that a failed sign-in puts on the sign-in page URL (`?error=CredentialsSignin&code=…`).
 * None of them reveals whether an account exists.
 *
 * - `invalid_credentials`: the backend refused the credentials (400/401/403/404/422).
 * - `backend_unavailable`: the backend could not be reached, timed out, or answered 429/5xx.
 * - `backend_response_invalid`: the backend's answer lacks a token or an expiry (misconfiguration;
 *   the server log names the missing piece).
 * - `role_not_allowed`: the user's roles do not pass the `allowedRoles` / `authorizeUser` rule.
 */
export type SignInErrorCode =
  | "invalid_credentials"
  | "backend_unavailable"
  | "backend_response_invalid"
  | "role_not_allowed";

/**
 * Auth.js `CredentialsSignin` with one of the {@link SignInErrorCode} codes. Auth.js turns it into
 * a redirect to the sign-in page with `error=CredentialsSignin&code=<code>`.
 */
export class BackendSignInError extends CredentialsSignin {
  override code: SignInErrorCode;

  constructor(code: SignInErrorCode, options: { cause?: unknown } = {}) {
    super(undefined, { cause: options.cause });
    this.code = code;
  }
}
