import { CredentialsSignin } from "@auth/core/errors";
import type { BackendSessionError } from "./types.js";

/**
 * Codes of a failed sign-in, put on the sign-in page URL (`?error=CredentialsSignin&code=…`) and
 * returned by the Next.js login helpers as `{ error }`. None of them reveals whether an account
 * exists.
 *
 * - `InvalidCredentials`: the backend refused the credentials (400/401/403/404/422), or a field
 *   is missing.
 * - `BackendUnavailable`: the backend could not be reached, timed out, or answered 429/5xx.
 * - `BackendResponseInvalid`: the backend's answer lacks a token, an expiry or a user id
 *   (misconfiguration; the server log names the missing piece).
 * - `RoleNotAllowed`: the user's roles do not pass the `allowedRoles` / `authorizeUser` rule.
 */
export const SIGN_IN_ERROR_CODES = [
  "InvalidCredentials",
  "BackendUnavailable",
  "BackendResponseInvalid",
  "RoleNotAllowed",
] as const;

/** A code of {@link SIGN_IN_ERROR_CODES}. */
export type SignInErrorCode = (typeof SIGN_IN_ERROR_CODES)[number];

/**
 * What `backend.loginRoute()` answers besides a {@link SignInErrorCode}: `InvalidRequest` (a body
 * that is neither JSON nor form fields) and `Forbidden` (a cross-site request: login CSRF).
 */
export type LoginRouteErrorCode = SignInErrorCode | "InvalidRequest" | "Forbidden";

/**
 * Codes a {@link BackendAuthError} carries at run time: the session error names
 * ({@link BackendSessionError}) when the session is the problem, and
 * - `NoSession`: there is no session cookie, it cannot be decrypted, or it was not made by
 *   BackendCredentials;
 * - `BackendUnavailable`: network error, timeout, 429 or 5xx. Transient: try again later;
 * - `BackendResponseInvalid`: the backend answered 2xx but the response lacks what the options say
 *   it holds (a token, an expiry, JSON). Misconfiguration: fix the options.
 */
export type BackendAuthErrorCode =
  | "NoSession"
  | "BackendUnavailable"
  | "BackendResponseInvalid"
  | BackendSessionError;

/**
 * Every code this package reports, in one casing: sign-in codes, login-route codes, session errors
 * (`session.error`) and {@link BackendAuthError} codes. The README's "Error codes" table lists them.
 */
export type BackendErrorCode = LoginRouteErrorCode | BackendAuthErrorCode;

/**
 * Base class of the errors this package throws at run time. Misuse of the API (bad options)
 * throws a plain `TypeError` naming the option instead; a failed sign-in is Auth.js's
 * `CredentialsSignin` ({@link BackendSignInError}), which Auth.js turns into a redirect.
 *
 * Messages never contain tokens, cookie values or backend response bodies.
 */
export class BackendAuthError extends Error {
  /** A literal code; see {@link BackendAuthErrorCode}. */
  readonly code: BackendAuthErrorCode;
  /** The backend's HTTP status, when the error comes from a backend response. */
  readonly status: number | undefined;

  constructor(
    code: BackendAuthErrorCode,
    message: string,
    options: { cause?: unknown; status?: number } = {},
  ) {
    super(message, { cause: options.cause });
    this.name = this.constructor.name;
    this.code = code;
    this.status = options.status;
  }

  /**
   * `true` when retrying later may succeed: the backend is unavailable (network, timeout, 429,
   * 5xx), or the access token expired where it could not be refreshed now.
   */
  get transient(): boolean {
    return this.code === "BackendUnavailable" || this.code === "RefreshUnavailable";
  }
}

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

/** @internal The sign-in code carried by an error Auth.js (or next-auth's `signIn`) threw, if any. */
export function signInErrorCodeOf(error: unknown): SignInErrorCode | undefined {
  if (typeof error !== "object" || error === null) return undefined;
  const { type, code } = error as { type?: unknown; code?: unknown };
  if (type !== "CredentialsSignin") return undefined;
  return (SIGN_IN_ERROR_CODES as readonly unknown[]).includes(code)
    ? (code as SignInErrorCode)
    : "InvalidCredentials";
}
