import { backend } from "./auth";

/**
 * Runs before every page and route handler (Node.js runtime): refreshes the access token shortly
 * before it expires and hands the new session to the Server Components of the same request;
 * sends signed-out visitors of protected pages to /signin?callbackUrl=…, and ended sessions
 * through /api/auth/expired.
 */
export const proxy = backend.proxy({ protect: ["/dashboard", "/admin", "/live"] });

export const config = {
  matcher: ["/((?!_next/static|_next/image|favicon.ico).*)"],
};
