/** Human messages for the sign-in error codes of authjs-backend-credentials. */
export const SIGN_IN_ERRORS: Record<string, string> = {
  invalid_credentials: "Wrong email or password.",
  backend_unavailable:
    "The sign-in service is unavailable right now. Please try again in a moment.",
  backend_response_invalid:
    "The sign-in service answered in a way we did not expect. Please try again later.",
  role_not_allowed: "Your account is not allowed to use this application.",
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
