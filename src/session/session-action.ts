import { Auth, type AuthConfig } from "@auth/core";
import type { JWT } from "@auth/core/jwt";
import {
  decodeSessionCookie,
  replaceSessionCookies,
  type SessionRequest,
  sessionCookieFor,
} from "./session-cookie.js";

/** What re-running Auth.js's session action for a request produced. */
export interface SessionActionResult {
  /** The `Set-Cookie` headers Auth.js answered with (the re-issued session cookie and chunks). */
  setCookies: string[];
  /** The request's `Cookie` header with the session cookies replaced by the new ones. */
  cookieHeader: string;
  /** The new session token, `null` when the session is gone. */
  token: JWT | null;
}

/**
 * @internal Runs Auth.js's own session action (`GET {basePath}/session`) for a request, so the
 * `jwt` callback refreshes as `config` allows and Auth.js encodes and chunks the new session
 * cookie itself. The internal URL gets the protocol that selects the request's session cookie
 * ({@link sessionCookieFor}), so Auth.js reads and writes the same cookie every other reader uses.
 */
export async function runSessionAction(
  config: AuthConfig & { basePath: string },
  request: SessionRequest,
): Promise<SessionActionResult> {
  const cookieHeader = request.headers.get("cookie") ?? "";
  const cookie = sessionCookieFor(config, request);
  const url = new URL(
    `${config.basePath}/session`,
    new URL(request.url ?? "http://localhost").origin,
  );
  url.protocol = cookie.secure ? "https:" : "http:";
  const response = await Auth(new Request(url, { headers: { cookie: cookieHeader } }), config);
  const setCookies = response.headers.getSetCookie();
  const updated = replaceSessionCookies(cookieHeader, setCookies, cookie.name);
  return {
    setCookies,
    cookieHeader: updated,
    token: await decodeSessionCookie(config, updated, cookie),
  };
}
