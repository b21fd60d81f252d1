import { NextRequest } from "next/server";
import { describe, expect, it } from "vitest";
import type { NextBackend } from "../src/next/index.js";
import { nextApp } from "./hardening-helpers.js";
import { ADMIN, AuthClient, decodeSessionCookie, ORIGIN, SESSION_COOKIE } from "./helpers.js";

/** A Next.js app's view: nextBackend over the reference backend, plus a signed-in browser. */
async function app() {
  const started = await nextApp();
  return started;
}

function proxyRequest(next: NextBackend, path: string, cookie: string) {
  return next.proxy({ protect: ["/dashboard"] })(
    new NextRequest(`${ORIGIN}${path}`, { headers: { cookie } }),
  );
}

/** The session cookie as the proxy passes it on to Server Components of the same request. */
function forwardedCookie(response: Response): string | undefined {
  const header = response.headers.get("x-middleware-request-cookie") ?? "";
  return header
    .split("; ")
    .find((pair) => pair.startsWith(`${SESSION_COOKIE}=`))
    ?.slice(SESSION_COOKIE.length + 1);
}

function setCookieValue(response: Response, name: string): string | undefined {
  const header = response.headers.getSetCookie().find((c) => c.startsWith(`${name}=`));
  return header?.slice(name.length + 1).split(";")[0];
}

describe("proxy", () => {
  it("refreshes a due token, writes the cookie and rewrites the request cookie for Server Components", async () => {
    const { backend, clock, next, browser } = await app();
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
    const { backend, next, browser } = await app();
    const response = await proxyRequest(next, "/dashboard?tab=1", browser.cookieHeader());
    expect(response.headers.getSetCookie()).toEqual([]);
    expect(response.headers.get("location")).toBeNull();
    expect(backend.stats.refresh).toBe(0);
    expect(response.headers.get("x-middleware-request-x-authjs-backend-path")).toBe(
      "/dashboard?tab=1",
    );
  });

  it("redirects an anonymous request for a protected path to sign-in with a relative callbackUrl", async () => {
    const { next } = await app();
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
    const { backend, clock, next, browser } = await app();
    backend.revokeAll();
    clock.advance(590);
    const response = await proxyRequest(next, "/dashboard", browser.cookieHeader());
    expect(response.status).toBe(307);
    const location = new URL(response.headers.get("location") ?? "", ORIGIN);
    expect(location.pathname).toBe("/api/auth/expired");
    expect(location.searchParams.get("callbackUrl")).toBe("/dashboard");
  });
});

describe("refresh route", () => {
  it("refreshes once after a 401 and redirects back with the new cookie", async () => {
    const { backend, next, browser } = await app();
    const stale = String((await browser.token())?.backend?.receivedAt);
    const response = await next.refreshRoute.GET(
      new Request(`${ORIGIN}/api/auth/refresh?callbackUrl=%2Fdashboard&stale=${stale}`, {
        headers: { cookie: browser.cookieHeader() },
      }),
    );
    expect(response.status).toBe(307);
    expect(response.headers.get("location")).toBe("/dashboard");
    expect(backend.stats.refreshSucceeded).toBe(1);
    expect(setCookieValue(response, SESSION_COOKIE)).toBeTruthy();
  });

  it("does not refresh again when the session was refreshed since the 401", async () => {
    const { backend, next, browser } = await app();
    const response = await next.refreshRoute.GET(
      new Request(`${ORIGIN}/api/auth/refresh?callbackUrl=%2Fdashboard&stale=1`, {
        headers: { cookie: browser.cookieHeader() },
      }),
    );
    expect(response.headers.get("location")).toBe("/dashboard");
    expect(backend.stats.refresh).toBe(0);
  });

  it("ends the session instead of looping when a brand-new token is rejected", async () => {
    const { backend, next, browser, clock } = await app();
    const refresh = (stale: string) =>
      next.refreshRoute.GET(
        new Request(`${ORIGIN}/api/auth/refresh?callbackUrl=%2Fdashboard&stale=${stale}`, {
          headers: { cookie: browser.cookieHeader() },
        }),
      );
    // A 401 right after sign-in: refreshed once, retried once (with a marker cookie).
    const first = await refresh(String((await browser.token())?.backend?.receivedAt));
    expect(first.status).toBe(307);
    expect(first.headers.get("location")).toBe("/dashboard");
    expect(backend.stats.refreshSucceeded).toBe(1);
    browser.store(first);
    const renewed = String((await browser.token())?.backend?.receivedAt);
    const marker = first.headers
      .getSetCookie()
      .find((c) => c.startsWith("authjs-backend.retried="));
    expect(marker).toBe(
      `authjs-backend.retried=${renewed}; Max-Age=60; Path=/api/auth/refresh; HttpOnly; SameSite=Lax`,
    );
    // However long the page takes, the new token's 401 ends the session: no second refresh.
    clock.advance(30);
    const second = await refresh(renewed);
    expect(second.status).toBe(303);
    expect(new URL(second.headers.get("location") ?? "", ORIGIN).pathname).toBe(
      "/api/auth/expired",
    );
    expect(backend.stats.refresh).toBe(1);
  });

  for (const evil of [
    "https://evil.example/x",
    "//evil.example",
    "/\\evil.example",
    "javascript:alert(1)",
  ]) {
    it(`keeps the redirect on our origin for callbackUrl=${evil}`, async () => {
      const { next, browser } = await app();
      const response = await next.refreshRoute.GET(
        new Request(`${ORIGIN}/api/auth/refresh?${new URLSearchParams({ callbackUrl: evil })}`, {
          headers: { cookie: browser.cookieHeader() },
        }),
      );
      const location = response.headers.get("location") ?? "";
      // A relative path that cannot be read as another host.
      expect(location).toMatch(/^\/(?![/\\])/);
      expect(new URL(location, ORIGIN).origin).toBe(ORIGIN);
    });
  }
});

describe("expired route", () => {
  it("logs out at the backend, deletes the session cookies and redirects to sign-in", async () => {
    const { backend, next, browser } = await app();
    const response = await next.expiredRoute.GET(
      new Request(`${ORIGIN}/api/auth/expired?callbackUrl=%2Fdashboard`, {
        headers: { cookie: browser.cookieHeader() },
      }),
    );
    expect(response.status).toBe(303);
    const location = new URL(response.headers.get("location") ?? "", ORIGIN);
    expect(location.pathname).toBe("/signin");
    expect(location.searchParams.get("error")).toBe("SessionExpired");
    expect(location.searchParams.get("callbackUrl")).toBe("/dashboard");
    expect(backend.stats.logout).toBe(1);
    const deleted = response.headers.getSetCookie().find((c) => c.startsWith(`${SESSION_COOKIE}=`));
    expect(deleted).toMatch(/Max-Age=0/);
  });

  it("works without any session (no loop, no backend call)", async () => {
    const { backend, next } = await app();
    const response = await next.expiredRoute.GET(new Request(`${ORIGIN}/api/auth/expired`));
    expect(response.status).toBe(303);
    expect(backend.stats.logout).toBe(0);
  });
});

describe("authConfig", () => {
  it("never rotates where cookies cannot be written (no request: Server Components)", async () => {
    const { backend, clock, next, browser } = await app();
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
