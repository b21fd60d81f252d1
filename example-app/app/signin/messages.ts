/** Human messages for the sign-in error codes of authjs-backend-credentials. */
export const SIGN_IN_ERRORS: Record<string, string> = {
  InvalidCredentials: "Wrong email or password.",
  BackendUnavailable: "The sign-in service is unavailable right now. Please try again in a moment.",
  BackendResponseInvalid:
    "The sign-in service answered in a way we did not expect. Please try again later.",
  RoleNotAllowed: "Your account is not allowed to use this application.",
};

/** Messages for `?error=` on the sign-in page (set by redirects, not by the form). */
export const PAGE_ERRORS: Record<string, string> = {
  SessionExpired: "Your session has expired. Please sign in again.",
  CredentialsSignin: "Sign-in failed. Please try again.",
};

export function signInErrorMessage(code: string | undefined): string | undefined {
  if (!code) return undefined;
  return SIGN_IN_ERRORS[code] ?? "Sign-in failed. Please try again.";
}
