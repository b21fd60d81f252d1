/**
 * The Next.js layer at its edges: a protected sign-in page, TLS termination (the session cookie
 * name), the refresh route's loop guard, cross-site requests to the login and expired routes, and
 * the <SessionRefresher/> schedule during a backend outage. Everything runs through `nextBackend`
 * with real `Request`/`NextRequest` objects against the reference backend.
 */
import { decode, encode, type JWT } from "@auth/core/jwt";
import { NextRequest } from "next/server";
import { describe, expect, it } from "vitest";
import { getBackendAuth } from "../src/index.js";
import { refreshDelayMs, type Stall, stalledAttempts } from "../src/next/client/schedule.js";
import type { NextBackendOptions } from "../src/next/index.js";
import { nextApp, nextAuthSignIn, nextRequest, setCookiesNamed } from "./hardening-helpers.js";
import { type AuthClient, ORIGIN, SECRET, SESSION_COOKIE, USER } from "./helpers.js";

const SECURE_COOKIE = `__Secure-${SESSION_COOKIE}`;
const RETRIED_COOKIE = "authjs-backend.retried";

async function start(nextOptions: NextBackendOptions = {}) {
  const app = await nextApp({}, {}, nextOptions);
  return app;
}

function locationOf(response: Response): URL {
  return new URL(response.headers.get("location") ?? "", ORIGIN);
}

/** The value a response sets for cookie `name` (first `Set-Cookie`), or undefined. */
function setCookieValue(response: Response, name: string): string | undefined {
  return setCookiesNamed(response, name)[0]
    ?.slice(name.length + 1)
    .split(";")[0];
}

/** A cookie the proxy hands to Server Components of the same request. */
function forwardedCookie(response: Response, name: string): string | undefined {
  return (response.headers.get("x-middleware-request-cookie") ?? "")
    .split("; ")
    .find((pair) => pair.startsWith(`${name}=`))
    ?.slice(name.length + 1);
}

/**
 * The browser's session as the `__Secure-` cookie (what a browser holds when the app is served
 * over https), whole or split into `chunks` chunk cookies like Auth.js does for large sessions.
 */
async function secureCookieHeader(browser: AuthClient, chunks = 1): Promise<string> {
  const value = await encode({
    token: (await browser.token()) as JWT,
    secret: SECRET,
    salt: SECURE_COOKIE,
  });
  if (chunks === 1) return `${SECURE_COOKIE}=${value}`;
  const size = Math.ceil(value.length / chunks);
  return Array.from(
    { length: chunks },
    (_, i) => `${SECURE_COOKIE}.${i}=${value.slice(i * size, (i + 1) * size)}`,
  ).join("; ");
}

function decodeSecure(value: string | undefined): Promise<JWT | null> {
  return value
    ? decode({ token: value, secret: SECRET, salt: SECURE_COOKIE })
    : Promise.resolve(null);
}

describe("proxy: the sign-in page is never protected", () => {
  it('protect: ["/"] with a sign-in page that has a query does not redirect the sign-in page to itself', async () => {
    const { next, browser, clock, backend } = await start({ signInPath: "/login?source=app" });
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

/** A request behind a TLS-terminating proxy: http to Next.js, `X-Forwarded-Proto: https`. */
function behindTls(path: string, cookie: string): NextRequest {
  return new NextRequest(`${ORIGIN}${path}`, {
    headers: { cookie, "x-forwarded-proto": "https" },
  });
}

describe("session cookie rule: the cookie Auth.js uses for the browser's protocol", () => {
  for (const chunks of [1, 2]) {
    it(`behind TLS termination the proxy refreshes the __Secure- cookie (${chunks === 1 ? "whole" : "chunked"})`, async () => {
      const { next, browser, clock, backend } = await start();
      const cookie = await secureCookieHeader(browser, chunks);
      clock.advance(590);
      const response = await next.proxy({ protect: ["/dashboard"] })(
        behindTls("/dashboard", cookie),
      );
      expect(response.headers.get("location")).toBeNull();
      expect(backend.stats.refreshSucceeded).toBe(1);
      const written = setCookiesNamed(response, SECURE_COOKIE);
      expect(written).toEqual([expect.stringMatching(/; Secure/)]);
      expect(setCookiesNamed(response, SESSION_COOKIE)).toEqual([]);
      const value = setCookieValue(response, SECURE_COOKIE);
      // Server Components of this request read the new cookie, and no stale chunk.
      expect(forwardedCookie(response, SECURE_COOKIE)).toBe(value);
      expect(forwardedCookie(response, `${SECURE_COOKIE}.0`)).toBeUndefined();
      const token = await decodeSecure(value);
      expect(token?.backend?.accessTokenExpiresAt).toBeGreaterThan(clock.now() / 1000 + 500);
    });
  }

  it("a plain authjs.session-token on an https request is no session: proxy, refresh route, expired route, getBackendAuth", async () => {
    const { next, browser, clock, backend, config } = await start();
    const plain = browser.cookieHeader();
    clock.advance(590);
    const requests = [
      (path: string) =>
        new NextRequest(`https://localhost:3000${path}`, { headers: { cookie: plain } }),
      (path: string) => behindTls(path, plain),
    ];
    for (const request of requests) {
      const proxied = await next.proxy({ protect: ["/dashboard"] })(request("/dashboard"));
      expect(proxied.status).toBe(307);
      expect(new URL(proxied.headers.get("location") ?? "").pathname).toBe("/signin");
      const refreshed = await next.refreshRoute.GET(
        request("/api/auth/refresh?callbackUrl=%2Fdashboard"),
      );
      expect(new URL(refreshed.headers.get("location") ?? "", ORIGIN).pathname).toBe("/signin");
      const expired = await next.expiredRoute.GET(request("/api/auth/expired"));
      expect(expired.status).toBe(303);
      await expect(getBackendAuth(config, request("/x"))).rejects.toMatchObject({
        code: "NoSession",
      });
    }
    expect(backend.stats.refresh).toBe(0);
    expect(backend.stats.logout).toBe(0);
    // The same cookie on http is the session.
    const onHttp = await next.proxy({ protect: ["/dashboard"] })(nextRequest("/dashboard", plain));
    expect(onHttp.headers.get("location")).toBeNull();
    expect(backend.stats.refreshSucceeded).toBe(1);
  });

  it("behind TLS termination the refresh and expired routes rotate and delete the __Secure- cookie", async () => {
    const { next, browser, backend } = await start();
    const cookie = await secureCookieHeader(browser);
    const stale = String((await browser.token())?.backend?.receivedAt);
    const refreshed = await next.refreshRoute.GET(
      behindTls(`/api/auth/refresh?callbackUrl=%2Fdashboard&stale=${stale}`, cookie),
    );
    expect(refreshed.status).toBe(307);
    expect(backend.stats.refreshSucceeded).toBe(1);
    expect(setCookiesNamed(refreshed, SECURE_COOKIE)).toEqual([expect.stringMatching(/; Secure/)]);
    expect(setCookiesNamed(refreshed, SESSION_COOKIE)).toEqual([]);
    // The marker follows the session cookie: Secure, because the browser is on https.
    expect(setCookiesNamed(refreshed, RETRIED_COOKIE)).toEqual([expect.stringMatching(/; Secure/)]);

    const rotated = `${SECURE_COOKIE}=${setCookieValue(refreshed, SECURE_COOKIE)}`;
    const expired = await next.expiredRoute.GET(behindTls("/api/auth/expired", rotated));
    expect(expired.status).toBe(303);
    expect(backend.stats.logout).toBe(1);
    expect(setCookiesNamed(expired, SECURE_COOKIE)).toEqual([
      expect.stringMatching(/^__Secure-authjs\.session-token=; Max-Age=0; .*; Secure/),
    ]);
  });
});

describe("refresh route: loop guard cookie", () => {
  it("the expired route deletes the marker cookie on the refresh path", async () => {
    const { next, browser } = await start();
    const response = await next.expiredRoute.GET(
      nextRequest("/api/auth/expired", browser.cookieHeader()),
    );
    expect(setCookiesNamed(response, RETRIED_COOKIE)).toEqual([
      expect.stringMatching(/^authjs-backend\.retried=; Max-Age=0; Path=\/api\/auth\/refresh;/),
    ]);
  });

  it("a refresh without stale (not after a failed backend call) sets no marker", async () => {
    const { next, browser, backend } = await start();
    const response = await next.refreshRoute.GET(
      nextRequest("/api/auth/refresh?callbackUrl=%2Fdashboard", browser.cookieHeader()),
    );
    expect(response.status).toBe(307);
    expect(backend.stats.refreshSucceeded).toBe(1);
    expect(setCookiesNamed(response, RETRIED_COOKIE)).toEqual([]);
  });

  it("a marker for another token does not stop the refresh", async () => {
    const { next, browser, backend } = await start();
    const stale = String((await browser.token())?.backend?.receivedAt);
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

describe("login route: login CSRF", () => {
  async function loginApp() {
    const app = await start();
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

describe("expired route: cross-site requests", () => {
  const crossSite = (path: string, cookie: string) =>
    new Request(`${ORIGIN}${path}`, { headers: { cookie, "sec-fetch-site": "cross-site" } });

  it("does not sign out a live session for a cross-site GET: redirects to the same-origin callbackUrl", async () => {
    const { next, browser, backend } = await start();
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
    const { next, browser, backend, clock } = await start();
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
    const { next, browser, backend } = await start();
    const refresh = (stale: string) =>
      next.refreshRoute.GET(
        crossSite(
          `/api/auth/refresh?callbackUrl=%2Fdashboard&stale=${stale}`,
          browser.cookieHeader(),
        ),
      );
    browser.store(await refresh(String((await browser.token())?.backend?.receivedAt)));
    const renewed = String((await browser.token())?.backend?.receivedAt);
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
    const { next, browser, backend } = await start();
    const forged = await next.expiredRoute.GET(
      crossSite("/api/auth/expired?stale=1700000000.123", browser.cookieHeader()),
    );
    expect(forged.headers.get("location")).toBe("/");
    expect(forged.headers.getSetCookie()).toEqual([]);
    expect(backend.stats.logout).toBe(0);
  });
});

describe("<SessionRefresher/> schedule", () => {
  it("backs off while the backend is unavailable (2, 4, 8 … 60 s) and resets when the expiry moves", async () => {
    const { browser, backend, clock } = await start();
    // useSession().update() is GET {basePath}/session in a context that can write cookies.
    const update = () => browser.session();
    let session = await update();
    let stall: Stall = { count: 0 };
    const schedule = () => {
      const expiresAt = session?.accessTokenExpiresAt as number;
      const stalled = stalledAttempts(stall, expiresAt);
      return {
        expiresAt,
        stalled,
        delay: refreshDelayMs(expiresAt, clock.now() / 1000, 30, stalled),
      };
    };
    const initialExpiry = session?.accessTokenExpiresAt as number;
    // First attempt: 30 s before expiry.
    expect(schedule().delay / 1000).toBeCloseTo(initialExpiry - 30 - clock.now() / 1000, 0);

    backend.injectFault("refresh", { status: 503, times: 1_000 });
    clock.advance(610); // the tab was hidden past expiry; the backend is down
    const delays: number[] = [];
    for (let attempt = 0; attempt < 9; attempt++) {
      const { expiresAt, stalled, delay } = schedule();
      delays.push(delay);
      clock.advance(delay / 1000);
      session = await update();
      expect(session?.error).toBe("RefreshUnavailable");
      expect(session?.accessTokenExpiresAt).toBe(initialExpiry);
      stall = { expiresAt, count: stalled + 1 };
    }
    expect(delays).toEqual([1_000, 2_000, 4_000, 8_000, 16_000, 32_000, 60_000, 60_000, 60_000]);

    backend.clearFaults();
    const { expiresAt, stalled } = schedule();
    clock.advance(60);
    session = await update();
    stall = { expiresAt, count: stalled + 1 };
    expect(session?.error).toBeUndefined();
    expect(session?.accessTokenExpiresAt as number).toBeGreaterThan(initialExpiry);
    // The new expiry resets the backoff: the next attempt is 30 s before it again.
    const next = schedule();
    expect(next.stalled).toBe(0);
    expect(next.delay / 1000).toBeCloseTo(next.expiresAt - 30 - clock.now() / 1000, 0);
  });

  it("never waits past a still-valid token's expiry, and never less than a second", () => {
    const now = 1_700_000_000;
    // The server's buffer is shorter than ours: attempts that did not refresh yet back off, but
    // the expiry itself is still tried.
    expect(refreshDelayMs(now + 3, now, 30, 5)).toBe(3_000);
    expect(refreshDelayMs(now + 20, now, 30, 3)).toBe(10_000);
    expect(refreshDelayMs(now + 0.2, now, 30, 0)).toBe(1_000);
    expect(refreshDelayMs(now - 10, now, 30, 0)).toBe(1_000);
    expect(refreshDelayMs(now - 10, now, 30, 20)).toBe(60_000);
  });
});

describe("second review: proxy and expired route edges", () => {
  it("a session ended by time alone is signed out even for a cross-site request (no loop back to the page)", async () => {
    const { next, browser, clock, backend } = await start();
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
    const { next, browser, backend } = await start();
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

  it("a rotation reaches the browser even when the app's proxy logic returns a Response.redirect()", async () => {
    const { next, browser, clock, backend } = await start();
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
    const { next } = await start();
    const proxy = next.proxy({ protect: [/^\/dash/g] });
    for (let i = 0; i < 3; i++) {
      const response = await proxy(nextRequest("/dashboard", ""));
      expect(locationOf(response).pathname).toBe("/signin");
    }
  });
});
