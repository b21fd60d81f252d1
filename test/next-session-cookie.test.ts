/**
 * The session cookie rule in the Next.js layer: Auth.js names the session cookie by the browser's
 * protocol (`__Secure-` on https, also behind TLS termination), and the proxy, the refresh and
 * expired routes and `getBackendAuth` read and write only that cookie.
 */
import { decode, encode, type JWT } from "@auth/core/jwt";
import { NextRequest } from "next/server";
import { describe, expect, it } from "vitest";
import { getBackendAuth } from "../src/index.js";
import {
  type AuthClient,
  forwardedCookie,
  ORIGIN,
  RETRIED_COOKIE,
  SECRET,
  SESSION_COOKIE,
  setCookiesNamed,
  setCookieValue,
} from "./harness/index.js";
import { nextApp, nextRequest, staleOf } from "./harness/next-app.js";

const SECURE_COOKIE = `__Secure-${SESSION_COOKIE}`;

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

/** A request behind a TLS-terminating proxy: http to Next.js, `X-Forwarded-Proto: https`. */
function behindTls(path: string, cookie: string): NextRequest {
  return new NextRequest(`${ORIGIN}${path}`, {
    headers: { cookie, "x-forwarded-proto": "https" },
  });
}

describe("session cookie rule: the cookie Auth.js uses for the browser's protocol", () => {
  for (const chunks of [1, 2]) {
    it(`behind TLS termination the proxy refreshes the __Secure- cookie (${chunks === 1 ? "whole" : "chunked"})`, async () => {
      const { next, browser, clock, backend } = await nextApp();
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
    const { next, browser, clock, backend, config } = await nextApp();
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
    const { next, browser, backend } = await nextApp();
    const cookie = await secureCookieHeader(browser);
    const stale = await staleOf(browser);
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
