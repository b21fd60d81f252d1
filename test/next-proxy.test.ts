/**
 * The Next.js proxy (`nextBackend().proxy`): refreshing a due session and handing the new cookie to
 * Server Components, protected paths and the sign-in page, the app's own proxy logic; and the
 * configs `nextBackend` hands to Auth.js where cookies cannot be written.
 */
import { NextRequest } from "next/server";
import { describe, expect, it } from "vitest";
import type { NextBackend } from "../src/next/index.js";
import {
  ADMIN,
  AuthClient,
  decodeSessionCookie,
  forwardedCookie,
  locationOf,
  ORIGIN,
  SESSION_COOKIE,
  setCookieValue,
} from "./harness/index.js";
import { nextApp, nextRequest } from "./harness/next-app.js";

function proxyRequest(next: NextBackend, path: string, cookie: string) {
  return next.proxy({ protect: ["/dashboard"] })(
    new NextRequest(`${ORIGIN}${path}`, { headers: { cookie } }),
  );
}

describe("proxy", () => {
  it("refreshes a due token, writes the cookie and rewrites the request cookie for Server Components", async () => {
    const { backend, clock, next, browser } = await nextApp();
    clock.advance(590);
    const response = await proxyRequest(next, "/dashboard", browser.cookieHeader());
    expect(backend.stats.refresh).toBe(1);
    const written = setCookieValue(response, SESSION_COOKIE);
    expect(written).toBeTruthy();
    // Server Components of this request read exactly the cookie the browser receives.
    expect(forwardedCookie(response)).toBe(written);
    const token = await decodeSessionCookie(written);
    expect(token?.backend?.accessTokenExpiresAt).toBeGreaterThan(clock.now() / 1000 + 500);
    expect(response.headers.get("x-middleware-request-x-authjs-backend-path")).toBe("/dashboard");
    expect(response.headers.get("cache-control")).toBe("private, no-store");
  });

  it("passes a fresh session through untouched, without a backend call", async () => {
    const { backend, next, browser } = await nextApp();
    const response = await proxyRequest(next, "/dashboard?tab=1", browser.cookieHeader());
    expect(response.headers.getSetCookie()).toEqual([]);
    expect(response.headers.get("location")).toBeNull();
    expect(backend.stats.refresh).toBe(0);
    expect(response.headers.get("x-middleware-request-x-authjs-backend-path")).toBe(
      "/dashboard?tab=1",
    );
  });

  it("redirects an anonymous request for a protected path to sign-in with a relative callbackUrl", async () => {
    const { next } = await nextApp();
    const response = await proxyRequest(next, "/dashboard/reports?x=1", "");
    expect(response.status).toBe(307);
    const location = new URL(response.headers.get("location") ?? "", ORIGIN);
    expect(location.origin).toBe(ORIGIN);
    expect(location.pathname).toBe("/signin");
    expect(location.searchParams.get("callbackUrl")).toBe("/dashboard/reports?x=1");
    // Unprotected paths are left alone.
    const open = await proxyRequest(next, "/dashboardx", "");
    expect(open.headers.get("location")).toBeNull();
  });

  it("sends an ended session (refresh rejected) through the expired route", async () => {
    const { backend, clock, next, browser } = await nextApp();
    backend.revokeAll();
    clock.advance(590);
    const response = await proxyRequest(next, "/dashboard", browser.cookieHeader());
    expect(response.status).toBe(307);
    const location = new URL(response.headers.get("location") ?? "", ORIGIN);
    expect(location.pathname).toBe("/api/auth/expired");
    expect(location.searchParams.get("callbackUrl")).toBe("/dashboard");
  });

  it("a rotation reaches the browser even when the app's proxy logic returns a Response.redirect()", async () => {
    const { next, browser, clock, backend } = await nextApp();
    clock.advance(590);
    const proxy = next.proxy({
      handler: () => Response.redirect(`${ORIGIN}/elsewhere`, 307),
    });
    const response = await proxy(nextRequest("/dashboard", browser.cookieHeader()));
    expect(backend.stats.refreshSucceeded).toBe(1);
    expect(response.status).toBe(307);
    expect(setCookieValue(response, SESSION_COOKIE)).toBeTruthy();
  });

  it("a protect RegExp with the g flag protects every request, not every other one", async () => {
    const { next } = await nextApp();
    const proxy = next.proxy({ protect: [/^\/dash/g] });
    for (let i = 0; i < 3; i++) {
      const response = await proxy(nextRequest("/dashboard", ""));
      expect(locationOf(response).pathname).toBe("/signin");
    }
  });
});

describe("proxy: the sign-in page is never protected", () => {
  it('protect: ["/"] with a sign-in page that has a query does not redirect the sign-in page to itself', async () => {
    const { next, browser, clock, backend } = await nextApp(
      {},
      {},
      { signInPath: "/login?source=app" },
    );
    const proxy = next.proxy({ protect: ["/"] });
    const anonymous = (path: string) => proxy(nextRequest(path, ""));

    const page = await anonymous("/login?callbackUrl=%2Flogin%3FcallbackUrl%3D%252F");
    expect(page.status).toBe(200);
    expect(page.headers.get("location")).toBeNull();

    // Everything else still is protected, including paths that merely start like it.
    for (const path of ["/dashboard", "/loginx", "/"]) {
      const response = await anonymous(path);
      expect(response.status, path).toBe(307);
      const location = locationOf(response);
      expect(location.pathname, path).toBe("/login");
      expect(location.searchParams.get("source")).toBe("app");
      expect(location.searchParams.get("callbackUrl")).toBe(path);
    }

    // A signed-in visit of the sign-in page is still refreshed when due.
    clock.advance(590);
    const signedIn = await proxy(nextRequest("/login", browser.cookieHeader()));
    expect(signedIn.headers.get("location")).toBeNull();
    expect(backend.stats.refreshSucceeded).toBe(1);
    expect(setCookieValue(signedIn, SESSION_COOKIE)).toBeTruthy();
  });
});

describe("authConfig", () => {
  it("never rotates where cookies cannot be written (no request: Server Components)", async () => {
    const { backend, clock, next, browser } = await nextApp();
    clock.advance(590);
    const readOnly = new AuthClient(next.authConfig(), "/api/auth");
    for (const [name, value] of browser.cookies) readOnly.cookies.set(name, value);
    const session = await readOnly.session();
    expect(session?.user?.email).toBe(ADMIN.email);
    expect(backend.stats.refresh).toBe(0);
    // With a request (route handler / proxy) the same session is refreshed.
    await browser.session();
    expect(backend.stats.refresh).toBe(1);
  });
});
