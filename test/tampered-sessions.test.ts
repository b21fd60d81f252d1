/**
 * Session cookies that arrive broken or foreign (tampered with, chunks missing or reordered, sealed
 * with another secret) through `Auth()` and the Next.js layer, and secret rotation.
 */
import { encode } from "@auth/core/jwt";
import { describe, expect, it } from "vitest";
import { BackendAuthError, getBackendAuth } from "../src/index.js";
import {
  ADMIN,
  AuthClient,
  addingSetCookies,
  chunkNames,
  decodeSession,
  ORIGIN,
  SECRET,
  SESSION_COOKIE,
  sessionCookieOf,
  signedIn,
} from "./harness/index.js";
import { nextApp, nextRequest } from "./harness/next-app.js";

const NEW_SECRET = "a-brand-new-secret-of-at-least-32-characters";
const OTHER_APP_SECRET = "another-apps-secret-of-at-least-32-characters";

/** Replaces one base64url character in the middle of `value` with another. */
function flipOneCharacter(value: string): string {
  const at = Math.floor(value.length / 2);
  const replacement = value[at] === "A" ? "B" : "A";
  return `${value.slice(0, at)}${replacement}${value.slice(at + 1)}`;
}

/**
 * Ways a session cookie reaches us broken or foreign. Each edits the cookies of a signed-in
 * browser whose session is chunked (`authjs.session-token.0`, `.1`, …).
 */
const TAMPERINGS: ReadonlyArray<
  readonly [label: string, tamper: (cookies: Map<string, string>) => void | Promise<void>]
> = [
  [
    "a flipped character in a chunk",
    (cookies) => {
      const name = `${SESSION_COOKIE}.0`;
      cookies.set(name, flipOneCharacter(cookies.get(name) ?? ""));
    },
  ],
  [
    "a truncated last chunk",
    (cookies) => {
      const last = [...cookies.keys()]
        .filter((name) => name.startsWith(`${SESSION_COOKIE}.`))
        .pop();
      if (last) cookies.set(last, (cookies.get(last) ?? "").slice(0, -20));
    },
  ],
  ["a missing chunk", (cookies) => void cookies.delete(`${SESSION_COOKIE}.1`)],
  [
    "chunks in the wrong order",
    (cookies) => {
      const first = cookies.get(`${SESSION_COOKIE}.0`) ?? "";
      cookies.set(`${SESSION_COOKIE}.0`, cookies.get(`${SESSION_COOKIE}.1`) ?? "");
      cookies.set(`${SESSION_COOKIE}.1`, first);
    },
  ],
  [
    "a session sealed with another app's secret",
    async (cookies) => {
      for (const name of [...cookies.keys()])
        if (name.startsWith(SESSION_COOKIE)) cookies.delete(name);
      const token = { sub: "1", name: "Mallory", backend: undefined };
      cookies.set(
        SESSION_COOKIE,
        await encode({ token, secret: OTHER_APP_SECRET, salt: SESSION_COOKIE }),
      );
    },
  ],
  [
    "garbage",
    (cookies) => {
      for (const name of [...cookies.keys()])
        if (name.startsWith(SESSION_COOKIE)) cookies.delete(name);
      cookies.set(SESSION_COOKIE, "not-a-jwe..%%..");
    },
  ],
  [
    "a JWE-shaped value with empty parts",
    (cookies) => {
      for (const name of [...cookies.keys()])
        if (name.startsWith(SESSION_COOKIE)) cookies.delete(name);
      cookies.set(SESSION_COOKIE, "....");
    },
  ],
];

/** A signed-in browser whose session is chunked (a 5000-byte backend cookie rides along). */
async function chunkedSession() {
  const harness = await signedIn(
    { tokenPlacement: "body" },
    {
      sessionBudgetBytes: 16_384,
      fetch: addingSetCookies("/auth/login", () => [`big=${"z".repeat(5_000)}; Path=/`]),
    },
  );
  expect(chunkNames(harness.browser).length).toBeGreaterThanOrEqual(2);
  return harness;
}

const isSessionCookieName = (name: string) =>
  name === SESSION_COOKIE || name.startsWith(`${SESSION_COOKIE}.`);

describe("tampered or foreign session cookies through Auth()", () => {
  for (const [label, tamper] of TAMPERINGS) {
    it(`${label}: GET /auth/session answers null and clears the session cookies, never a 500`, async () => {
      const { browser, config, logger } = await chunkedSession();
      await tamper(browser.cookies);
      const sent = [...browser.cookies.keys()].filter(isSessionCookieName);
      expect(sent.length).toBeGreaterThan(0);
      const tampered = browser.cookieHeader();

      const response = await browser.request("/session");
      expect(response.status).toBe(200);
      expect(await response.json()).toBeNull();
      for (const name of sent) {
        expect(response.headers.getSetCookie()).toContainEqual(
          expect.stringMatching(new RegExp(`^${name.replace(/\./g, "\\.")}=;.*Max-Age=0`, "i")),
        );
      }
      expect([...browser.cookies.keys()].filter(isSessionCookieName)).toEqual([]);
      expect(logger.lines.some((line) => line.startsWith("authjs-error JWTSessionError"))).toBe(
        true,
      );
      // Server-side helper: a typed NoSession, not a crash.
      const request = new Request(`${ORIGIN}/x`, { headers: { cookie: tampered } });
      const error = await getBackendAuth(config, request).catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(BackendAuthError);
      expect((error as BackendAuthError).code).toBe("NoSession");
    });
  }

  it("secret rotation [new, old]: a session sealed with the old secret is kept, then re-sealed with the new one", async () => {
    const { browser, config } = await chunkedSession();
    const rotated = new AuthClient({ ...config, secret: [NEW_SECRET, SECRET] });
    for (const [name, value] of browser.cookies) rotated.cookies.set(name, value);

    const session = await rotated.session();
    expect(session?.user?.email).toBe(ADMIN.email);
    expect(session?.error).toBeUndefined();
    // The cookie written back is sealed with the first (new) secret.
    expect(await decodeSession(rotated, NEW_SECRET)).toMatchObject({ sub: "1" });
    await expect(decodeSession(rotated, SECRET)).rejects.toThrow();
    expect((await rotated.session())?.user?.email).toBe(ADMIN.email);
  });

  it("an unknown secret (the old one dropped): clean sign-out with a null session, no 500", async () => {
    const { browser, config } = await chunkedSession();
    const redeployed = new AuthClient({ ...config, secret: NEW_SECRET });
    for (const [name, value] of browser.cookies) redeployed.cookies.set(name, value);
    const response = await redeployed.request("/session");
    expect(response.status).toBe(200);
    expect(await response.json()).toBeNull();
    expect([...redeployed.cookies.keys()].filter(isSessionCookieName)).toEqual([]);
    // Signing in again works normally.
    await redeployed.signIn(ADMIN);
    expect((await redeployed.session())?.user?.email).toBe(ADMIN.email);
  });
});

describe("tampered or foreign session cookies through the Next.js layer", () => {
  for (const [label, tamper] of TAMPERINGS) {
    it(`${label}: the proxy, refresh route and expired route answer without a 500 or a throw`, async () => {
      const app = await nextApp(
        {},
        {
          sessionBudgetBytes: 16_384,
          fetch: addingSetCookies("/auth/login", () => [`big=${"z".repeat(5_000)}; Path=/`]),
        },
      );
      const { backend, browser, clock, next } = app;
      expect(chunkNames(browser).length).toBeGreaterThanOrEqual(2);
      await tamper(browser.cookies);
      clock.advance(590); // a valid session would now be refreshed
      const cookie = browser.cookieHeader();
      const sent = [...browser.cookies.keys()].filter(isSessionCookieName);

      const proxy = next.proxy({ protect: ["/dashboard"] });
      const protectedPage = await proxy(nextRequest("/dashboard", cookie));
      expect(protectedPage.status).toBe(307);
      const signIn = new URL(protectedPage.headers.get("location") ?? "", ORIGIN);
      expect(signIn.origin).toBe(ORIGIN);
      expect(signIn.pathname).toBe("/signin");
      const openPage = await proxy(nextRequest("/", cookie));
      expect(openPage.status).toBe(200);
      expect(openPage.headers.get("location")).toBeNull();

      const refresh = await next.refreshRoute.GET(
        nextRequest("/api/auth/refresh?callbackUrl=%2Fdashboard&stale=1", cookie),
      );
      expect(refresh.status).toBe(303);
      expect(new URL(refresh.headers.get("location") ?? "", ORIGIN).pathname).toBe("/signin");

      const expired = await next.expiredRoute.GET(
        nextRequest("/api/auth/expired?callbackUrl=%2Fdashboard", cookie),
      );
      expect(expired.status).toBe(303);
      const landing = new URL(expired.headers.get("location") ?? "", ORIGIN);
      expect(landing.pathname).toBe("/signin");
      expect(landing.searchParams.get("error")).toBe("SessionExpired");
      for (const name of sent) {
        expect(expired.headers.getSetCookie()).toContainEqual(
          expect.stringMatching(new RegExp(`^${name.replace(/\./g, "\\.")}=;.*Max-Age=0`, "i")),
        );
      }
      // Nothing was sent to the backend on the strength of a cookie we could not read.
      expect(backend.stats.refresh).toBe(0);
      expect(backend.stats.logout).toBe(0);
      // The Auth.js session route clears it too.
      const session = await browser.request("/session");
      expect(session.status).toBe(200);
      expect(await session.json()).toBeNull();
      expect(sessionCookieOf(browser)).toBeUndefined();
    });
  }
});
