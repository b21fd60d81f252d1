/** Readers of what `Auth()`, the proxy and the route handlers answer: cookies and redirects. */
import type { JWT } from "@auth/core/jwt";
import { ORIGIN, SESSION_COOKIE } from "./constants.js";
import { decodeSessionCookie } from "./session-cookie.js";

/** The session cookie a response sets, decrypted. */
export async function tokenFromResponse(response: Response): Promise<JWT | null> {
  for (const header of response.headers.getSetCookie()) {
    if (header.startsWith(`${SESSION_COOKIE}=`)) {
      return decodeSessionCookie(header.slice(SESSION_COOKIE.length + 1).split(";")[0]);
    }
  }
  return null;
}

/** `Set-Cookie` headers of `response` for cookie `name`. */
export function setCookiesNamed(response: Response, name: string): string[] {
  return response.headers.getSetCookie().filter((header) => header.startsWith(`${name}=`));
}

/** The value a response sets for cookie `name` (first `Set-Cookie`), or undefined. */
export function setCookieValue(response: Response, name: string): string | undefined {
  return setCookiesNamed(response, name)[0]
    ?.slice(name.length + 1)
    .split(";")[0];
}

/** A cookie the proxy hands to Server Components of the same request (the session cookie). */
export function forwardedCookie(response: Response, name = SESSION_COOKIE): string | undefined {
  return (response.headers.get("x-middleware-request-cookie") ?? "")
    .split("; ")
    .find((pair) => pair.startsWith(`${name}=`))
    ?.slice(name.length + 1);
}

/** Where a browser would go with this response's `Location` header. */
export function locationOf(response: Response): URL {
  return new URL(response.headers.get("location") ?? "", ORIGIN);
}

/** `code` of a failed Auth.js sign-in redirect (`?error=CredentialsSignin&code=…`). */
export function signInCode(response: Response): string | null {
  return locationOf(response).searchParams.get("code");
}
