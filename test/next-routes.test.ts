/**
 * The Next.js route handlers of `nextBackend`: the refresh route (after a backend 401) and its
 * loop guard, the expired route (sign-out of an ended session) and the login route, including
 * requests from other sites.
 */
import { encode } from "@auth/core/jwt";
import { describe, expect, it } from "vitest";
import {
  ADMIN,
  AuthClient,
  locationOf,
  ORIGIN,
  RETRIED_COOKIE,
  SECRET,
  SESSION_COOKIE,
  setCookiesNamed,
  setCookieValue,
  USER,
} from "./harness/index.js";
import { nextApp, nextAuthSignIn, nextRequest, staleOf } from "./harness/next-app.js";

describe("refresh route", () => {
  it("refreshes once after a 401 and redirects back with the new cookie", async () => {
    const { backend, next, browser } = await nextApp();
    const stale = await staleOf(browser);
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
    const { backend, next, browser } = await nextApp();
    const response = await next.refreshRoute.GET(
      new Request(`${ORIGIN}/api/auth/refresh?callbackUrl=%2Fdashboard&stale=1`, {
        headers: { cookie: browser.cookieHeader() },
      }),
    );
    expect(response.headers.get("location")).toBe("/dashboard");
    expect(backend.stats.refresh).toBe(0);
  });

  it("ends the session instead of looping when a brand-new token is rejected", async () => {
    const { backend, next, browser, clock } = await nextApp();
    const refresh = (stale: string) =>
      next.refreshRoute.GET(
        new Request(`${ORIGIN}/api/auth/refresh?callbackUrl=%2Fdashboard&stale=${stale}`, {
          headers: { cookie: browser.cookieHeader() },
        }),
      );
    // A 401 right after sign-in: refreshed once, retried once (with a marker cookie).
    const first = await refresh(await staleOf(browser));
    expect(first.status).toBe(307);
    expect(first.headers.get("location")).toBe("/dashboard");
    expect(backend.stats.refreshSucceeded).toBe(1);
    browser.store(first);
    const renewed = await staleOf(browser);
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
      const { next, browser } = await nextApp();
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

describe("refresh route: loop guard cookie", () => {
  it("the expired route deletes the marker cookie on the refresh path", async () => {
    const { next, browser } = await nextApp();
    const response = await next.expiredRoute.GET(
      nextRequest("/api/auth/expired", browser.cookieHeader()),
    );
    expect(setCookiesNamed(response, RETRIED_COOKIE)).toEqual([
      expect.stringMatching(/^authjs-backend\.retried=; Max-Age=0; Path=\/api\/auth\/refresh;/),
    ]);
  });

  it("a refresh without stale (not after a failed backend call) sets no marker", async () => {
    const { next, browser, backend } = await nextApp();
    const response = await next.refreshRoute.GET(
      nextRequest("/api/auth/refresh?callbackUrl=%2Fdashboard", browser.cookieHeader()),
    );
    expect(response.status).toBe(307);
    expect(backend.stats.refreshSucceeded).toBe(1);
    expect(setCookiesNamed(response, RETRIED_COOKIE)).toEqual([]);
  });

  it("a marker for another token does not stop the refresh", async () => {
    const { next, browser, backend } = await nextApp();
    const stale = await staleOf(browser);
    const response = await next.refreshRoute.GET(
      nextRequest(
        `/api/auth/refresh?callbackUrl=%2Fdashboard&stale=${stale}`,
        `${browser.cookieHeader()}; ${RETRIED_COOKIE}=12345.678`,
      ),
    );
    expect(response.status).toBe(307);
    expect(backend.stats.refreshSucceeded).toBe(1);
  });
});

describe("expired route", () => {
  it("logs out at the backend, deletes the session cookies and redirects to sign-in", async () => {
    const { backend, next, browser } = await nextApp();
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
    const { backend, next } = await nextApp();
    const response = await next.expiredRoute.GET(new Request(`${ORIGIN}/api/auth/expired`));
    expect(response.status).toBe(303);
    expect(backend.stats.logout).toBe(0);
  });
});

describe("expired route: cross-site requests", () => {
  const crossSite = (path: string, cookie: string) =>
    new Request(`${ORIGIN}${path}`, { headers: { cookie, "sec-fetch-site": "cross-site" } });

  it("does not sign out a live session for a cross-site GET: redirects to the same-origin callbackUrl", async () => {
    const { next, browser, backend } = await nextApp();
    const response = await next.expiredRoute.GET(
      crossSite("/api/auth/expired?callbackUrl=%2Fdashboard", browser.cookieHeader()),
    );
    expect(response.status).toBe(303);
    expect(response.headers.get("location")).toBe("/dashboard");
    expect(response.headers.getSetCookie()).toEqual([]);
    expect(backend.stats.logout).toBe(0);

    const evil = await next.expiredRoute.GET(
      crossSite("/api/auth/expired?callbackUrl=https%3A%2F%2Fevil.example", browser.cookieHeader()),
    );
    expect(evil.headers.get("location")).toBe("/");
    expect(backend.stats.logout).toBe(0);
    // Still signed in at the backend and here: the same request from our own pages signs out.
    const own = await next.expiredRoute.GET(
      nextRequest("/api/auth/expired?callbackUrl=%2Fdashboard", browser.cookieHeader()),
    );
    expect(locationOf(own).searchParams.get("error")).toBe("SessionExpired");
    expect(backend.stats.logout).toBe(1);
  });

  it("always cleans up an ended session, even cross-site", async () => {
    const { next, browser, backend, clock } = await nextApp();
    backend.revokeAll();
    clock.advance(590);
    expect((await browser.session())?.error).toBe("RefreshTokenRejected");
    const response = await next.expiredRoute.GET(
      crossSite("/api/auth/expired?callbackUrl=%2Fdashboard", browser.cookieHeader()),
    );
    const location = locationOf(response);
    expect(location.pathname).toBe("/signin");
    expect(location.searchParams.get("error")).toBe("SessionExpired");
    expect(setCookiesNamed(response, SESSION_COOKIE)).toEqual([expect.stringMatching(/Max-Age=0/)]);
  });

  it("signs out when the refresh route sends a rejected brand-new token there, even in a cross-site redirect chain", async () => {
    const { next, browser, backend } = await nextApp();
    const refresh = (stale: string) =>
      next.refreshRoute.GET(
        crossSite(
          `/api/auth/refresh?callbackUrl=%2Fdashboard&stale=${stale}`,
          browser.cookieHeader(),
        ),
      );
    browser.store(await refresh(await staleOf(browser)));
    const renewed = await staleOf(browser);
    const toExpired = await refresh(renewed);
    const location = locationOf(toExpired);
    expect(location.pathname).toBe("/api/auth/expired");
    expect(location.searchParams.get("stale")).toBe(renewed);

    const response = await next.expiredRoute.GET(
      crossSite(`${location.pathname}${location.search}`, browser.cookieHeader()),
    );
    expect(locationOf(response).searchParams.get("error")).toBe("SessionExpired");
    expect(backend.stats.logout).toBe(1);
    expect(setCookiesNamed(response, SESSION_COOKIE)).toEqual([expect.stringMatching(/Max-Age=0/)]);
  });

  it("another site cannot forge the refresh route's stale: a wrong one does not sign out", async () => {
    const { next, browser, backend } = await nextApp();
    const forged = await next.expiredRoute.GET(
      crossSite("/api/auth/expired?stale=1700000000.123", browser.cookieHeader()),
    );
    expect(forged.headers.get("location")).toBe("/");
    expect(forged.headers.getSetCookie()).toEqual([]);
    expect(backend.stats.logout).toBe(0);
  });

  it("a session ended by time alone is signed out even for a cross-site request (no loop back to the page)", async () => {
    const { next, browser, clock, backend } = await nextApp();
    const session = await browser.token();
    // The refresh token's known expiry passes: ended by time, though the cookie says nothing yet.
    clock.advance((session?.backend?.refreshTokenExpiresAt ?? 0) - clock.now() / 1000 + 1);
    const response = await next.expiredRoute.GET(
      new Request(`${ORIGIN}/api/auth/expired?callbackUrl=%2Fdashboard`, {
        headers: { cookie: browser.cookieHeader(), "sec-fetch-site": "cross-site" },
      }),
    );
    expect(locationOf(response).pathname).toBe("/signin");
    expect(setCookiesNamed(response, SESSION_COOKIE)[0]).toMatch(/Max-Age=0/);
    expect(backend.stats.refresh).toBe(0);
  });

  it("a same-site (sibling subdomain) or foreign-Origin request does not sign out a live session", async () => {
    const { next, browser, backend } = await nextApp();
    const crossSite: Array<Record<string, string>> = [
      { "sec-fetch-site": "same-site" },
      { origin: "https://evil.example" },
    ];
    for (const headers of crossSite) {
      const response = await next.expiredRoute.POST(
        new Request(`${ORIGIN}/api/auth/expired?callbackUrl=%2Fdashboard`, {
          method: "POST",
          headers: { cookie: browser.cookieHeader(), ...headers },
        }),
      );
      expect(response.headers.get("location")).toBe("/dashboard");
      expect(setCookiesNamed(response, SESSION_COOKIE)).toEqual([]);
    }
    expect(backend.stats.logout).toBe(0);
  });
});

/** A request another site caused: a link or form on another origin. */
const fromAnotherSite = (path: string, cookie: string) =>
  new Request(`${ORIGIN}${path}`, {
    headers: { cookie, "sec-fetch-site": "cross-site", origin: "https://evil.example" },
  });

describe("refresh route: cross-site requests and callbackUrl chains", () => {
  it("a cross-site GET without our marker refreshes nothing and only redirects to the callbackUrl", async () => {
    const { next, browser, backend } = await nextApp();
    const response = await next.refreshRoute.GET(
      fromAnotherSite("/api/auth/refresh?callbackUrl=%2Fdashboard", browser.cookieHeader()),
    );
    expect(response.status).toBe(303);
    expect(response.headers.get("location")).toBe("/dashboard");
    expect(response.headers.getSetCookie()).toEqual([]);
    expect(backend.stats.refresh).toBe(0);
  });

  it("a cross-site GET with our marker (our own redirect, followed from another site) refreshes once", async () => {
    const { next, browser, backend } = await nextApp();
    const response = await next.refreshRoute.GET(
      fromAnotherSite(
        `/api/auth/refresh?callbackUrl=%2Fdashboard&stale=${await staleOf(browser)}`,
        browser.cookieHeader(),
      ),
    );
    expect(response.status).toBe(307);
    expect(backend.stats.refreshSucceeded).toBe(1);
  });

  it("our own routes are never a callbackUrl: a 20-hop refresh chain makes one refresh and ends on /", async () => {
    const { next, browser, backend } = await nextApp();
    let path = "/dashboard";
    for (let hop = 0; hop < 20; hop++) {
      path = `/api/auth/refresh?callbackUrl=${encodeURIComponent(path)}`;
    }
    expect(path.length).toBeGreaterThan(500);
    const visited: string[] = [];
    for (let step = 0; step < 25 && path.startsWith("/api/auth/refresh"); step++) {
      const response = await next.refreshRoute.GET(
        new Request(`${ORIGIN}${path}`, { headers: { cookie: browser.cookieHeader() } }),
      );
      browser.store(response);
      path = response.headers.get("location") ?? "";
      visited.push(path);
    }
    expect(visited).toEqual(["/"]);
    expect(backend.stats.refreshSucceeded).toBe(1);
    for (const own of [
      "/api/auth/expired",
      "/api/auth/session",
      "/api/auth/signout",
      // What Next.js would route to the same handlers: a trailing slash, repeated slashes, case.
      "/api/auth/expired/",
      "/api//auth/expired",
      "/API/Auth/Refresh",
      "/api/auth/refresh%2F",
    ]) {
      const response = await next.refreshRoute.GET(
        fromAnotherSite(`/api/auth/refresh?callbackUrl=${encodeURIComponent(own)}`, ""),
      );
      expect(
        new URL(response.headers.get("location") ?? "", ORIGIN).searchParams.get("callbackUrl"),
      ).toBe("/");
    }
  });
});

describe("expired route: the stale marker", () => {
  it("the session's receive time is no longer a marker: a cross-site guess does not sign out", async () => {
    const { next, browser, backend } = await nextApp();
    const receivedAt = (await browser.token())?.backend?.receivedAt;
    for (const guess of [String(receivedAt), String(Math.round(Number(receivedAt) * 1000))]) {
      const response = await next.expiredRoute.GET(
        fromAnotherSite(`/api/auth/expired?stale=${guess}`, browser.cookieHeader()),
      );
      expect(response.headers.get("location")).toBe("/");
      expect(response.headers.getSetCookie()).toEqual([]);
    }
    expect(backend.stats.logout).toBe(0);
    // Another session's marker does not fit this one, though both got tokens at the same instant.
    const other = new AuthClient(next.authConfig(new Request(ORIGIN)), "/api/auth");
    await other.signIn(ADMIN);
    const otherToken = await other.token();
    if (!otherToken?.backend || receivedAt === undefined) throw new Error("no session");
    const sameInstant = { ...otherToken, backend: { ...otherToken.backend, receivedAt } };
    other.cookies.set(
      SESSION_COOKIE,
      await encode({ token: sameInstant, secret: SECRET, salt: SESSION_COOKIE }),
    );
    const borrowed = await next.expiredRoute.GET(
      fromAnotherSite(`/api/auth/expired?stale=${await staleOf(other)}`, browser.cookieHeader()),
    );
    expect(borrowed.headers.get("location")).toBe("/");
    expect(backend.stats.logout).toBe(0);
    // The marker our redirect carries (an HMAC under the Auth.js secret) is honoured.
    const ours = await next.expiredRoute.GET(
      fromAnotherSite(`/api/auth/expired?stale=${await staleOf(browser)}`, browser.cookieHeader()),
    );
    expect(locationOf(ours).searchParams.get("error")).toBe("SessionExpired");
    expect(backend.stats.logout).toBe(1);
  });
});

describe("login route: login CSRF", () => {
  async function loginApp() {
    const app = await nextApp();
    const { browser } = app;
    const signIn = nextAuthSignIn(browser);
    const route = app.next.loginRoute(signIn);
    const post = (headers: Record<string, string>, url = `${ORIGIN}/api/login`) =>
      route(
        new Request(url, {
          method: "POST",
          headers: { "content-type": "application/json", ...headers },
          body: JSON.stringify(USER),
        }),
      );
    return { ...app, post };
  }

  it("refuses cross-site requests (Sec-Fetch-Site, Origin) with 403 Forbidden, without a backend call", async () => {
    const { backend, post } = await loginApp();
    const loginsBefore = backend.stats.login;
    const refused: Array<Record<string, string>> = [
      { "sec-fetch-site": "cross-site" },
      { "sec-fetch-site": "same-site" },
      { "sec-fetch-site": "same-origin", origin: "https://evil.example" },
      { origin: "https://evil.example" },
      { origin: "null" },
      // Our host on another scheme or port is another origin.
      { origin: "https://localhost:3000" },
      { origin: "http://localhost:3001" },
    ];
    for (const headers of refused) {
      const response = await post(headers);
      expect(response.status, JSON.stringify(headers)).toBe(403);
      expect(await response.json()).toEqual({ error: "Forbidden" });
      expect(response.headers.getSetCookie()).toEqual([]);
    }
    expect(backend.stats.login).toBe(loginsBefore);
  });

  it("accepts same-origin requests: request URL origin, forwarded origin, or no browser headers", async () => {
    const { backend, post } = await loginApp();
    const loginsBefore = backend.stats.login;
    const accepted: Array<[Record<string, string>, string?]> = [
      [{ "sec-fetch-site": "same-origin", origin: ORIGIN }],
      [{ "sec-fetch-site": "none" }],
      [{}],
      // Behind a proxy: the route sees Next.js's internal URL, the browser our public origin.
      [
        {
          "sec-fetch-site": "same-origin",
          origin: "https://app.example.com",
          "x-forwarded-host": "app.example.com",
          "x-forwarded-proto": "https",
        },
        "http://localhost:3000/api/login",
      ],
      [{ origin: "http://app.example.com", host: "app.example.com" }],
    ];
    for (const [headers, url] of accepted) {
      const response = await post(headers, url);
      expect(response.status, JSON.stringify(headers)).toBe(200);
      expect(await response.json()).toEqual({ ok: true, url: "/" });
    }
    expect(backend.stats.login).toBe(loginsBefore + accepted.length);
  });
});
