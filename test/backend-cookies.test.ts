/**
 * Backend cookies: `Set-Cookie` headers read whole and validated (reserved Auth.js names, Domain,
 * byte-exact values, deletions), sessions that outgrow one cookie, and backend cookies mirrored to
 * the browser by the Next.js layer.
 */
import { decode } from "@auth/core/jwt";
import { NextResponse } from "next/server";
import { describe, expect, it } from "vitest";
import type { Backend } from "../example-app/backend/server.mjs";
import { nextBackend } from "../src/next/index.js";
import { valueForNextCookies } from "../src/next/mirror.js";
import {
  ADMIN,
  AuthClient,
  addingSetCookies,
  chunkNames,
  decodeSession,
  decodeSessionCookie,
  HOSTILE_USER,
  hostileSetup,
  ORIGIN,
  SECRET,
  SESSION_COOKIE,
  setCookiesNamed,
  signedIn,
} from "./harness/index.js";
import { nextApp, nextRequest, staleOf } from "./harness/next-app.js";

/** The `Cookie` header (raw) of every refresh request the backend saw, in order. */
const refreshCookieHeaders = (backend: Backend) =>
  backend.requests
    .filter((request) => request.endpoint === "refresh")
    .map((request) => request.headers.cookie ?? "");

const AUTHJS_COOKIE = /^(__Secure-|__Host-)?(authjs|next-auth)\./i;

describe("reading backend Set-Cookie headers", () => {
  it("commas in Expires: several Set-Cookie headers in one response are each read whole", async () => {
    const extra = [
      "pref=compact; Expires=Wed, 21 Oct 2037 07:28:00 GMT; Path=/",
      "lang=en-GB; Expires=Thu, 01 Jan 2037 00:00:00 GMT; Path=/; SameSite=Lax",
    ];
    const { backend, browser, clock } = await signedIn(
      { tokenPlacement: "mixed" },
      { sessionBudgetBytes: 16_384, fetch: addingSetCookies("/auth/login", () => extra) },
    );
    const jar = (await browser.token())?.backend?.cookies ?? [];
    expect(jar.map((cookie) => cookie.name).sort()).toEqual(
      ["backend_sid", "lang", "pref", "refresh_token", "theme"].sort(),
    );
    expect(jar.find((cookie) => cookie.name === "pref")).toMatchObject({
      value: "compact",
      path: "/",
      expiresAt: Date.parse("Wed, 21 Oct 2037 07:28:00 GMT") / 1000,
    });
    expect(jar.find((cookie) => cookie.name === "lang")).toMatchObject({
      value: "en-GB",
      sameSite: "lax",
      expiresAt: Date.parse("Thu, 01 Jan 2037 00:00:00 GMT") / 1000,
    });
    // They go back to the backend as separate cookies.
    clock.advance(590);
    await browser.session();
    const [sent = ""] = refreshCookieHeaders(backend);
    expect(sent.split("; ")).toEqual(
      expect.arrayContaining(["pref=compact", "lang=en-GB", "theme=dark"]),
    );
  });

  it("the backend cannot set Auth.js cookies: authjs.*, __Secure-authjs.*, __Host-authjs.* never reach the jar or our Set-Cookie headers", async () => {
    const forged = [
      "authjs.session-token=forged-session; Path=/; HttpOnly",
      "__Secure-authjs.session-token=forged-secure; Path=/; Secure",
      "__Host-authjs.csrf-token=forged-csrf; Path=/; Secure",
      "authjs.callback-url=https%3A%2F%2Fevil.example; Path=/",
      "next-auth.session-token=forged-legacy; Path=/",
    ];
    const { backend, browser, clock, logger, response } = await signedIn(
      { tokenPlacement: "body" },
      { fetch: addingSetCookies("/auth/login", () => forged) },
    );
    // On refresh, through a fault that only adds a header (the rotation itself succeeds).
    backend.injectFault("refresh", {
      headers: { "Set-Cookie": "authjs.session-token.0=forged-chunk; Path=/" },
    });
    clock.advance(590);
    const refreshed = await browser.request("/session");
    expect(((await refreshed.clone().json()) as { error?: string }).error).toBeUndefined();
    expect(backend.stats.refreshSucceeded).toBe(1);

    for (const ours of [response, refreshed]) {
      for (const header of ours.headers.getSetCookie()) expect(header).not.toMatch(/forged|evil/);
    }
    expect([...browser.cookies.values()].join()).not.toMatch(/forged|evil/);
    const jar = (await browser.token())?.backend?.cookies ?? [];
    expect(jar.map((cookie) => cookie.name).filter((name) => AUTHJS_COOKIE.test(name))).toEqual([]);
    expect(JSON.stringify(jar)).not.toMatch(/forged|evil/);
    for (const name of [
      "authjs.session-token",
      "__Secure-authjs.session-token",
      "__Host-authjs.csrf-token",
      "authjs.callback-url",
      "next-auth.session-token",
      "authjs.session-token.0",
    ]) {
      expect(logger.lines).toContain(`warn ignored backend cookie "${name}": ReservedName`);
    }
  });

  it("a customised Auth.js cookie name (config.cookies) is protected like the defaults", async () => {
    const harness = await signedIn(
      { tokenPlacement: "body" },
      { fetch: addingSetCookies("/auth/login", () => ["app-session=forged; Path=/"]) },
      {
        cookies: { sessionToken: { name: "app-session", options: { path: "/", sameSite: "lax" } } },
      },
    );
    const { browser } = harness;
    const value = browser.cookies.get("app-session");
    expect(value).toBeTruthy();
    expect(value).not.toBe("forged");
    const token = await decode({ token: value, secret: SECRET, salt: "app-session" });
    expect(token?.backend?.cookies.map((cookie) => cookie.name)).not.toContain("app-session");
    expect(harness.logger.lines).toContain(
      'warn ignored backend cookie "app-session": ReservedName',
    );
  });

  it("Domain is dropped and values stay byte-exact: in the jar, towards the backend and in mirrored browser cookies", async () => {
    const app = await nextApp(
      {},
      {
        fetch: addingSetCookies("/auth/login", () => [
          "pref=a%20b%2Fc==; Domain=evil.example; Path=/",
          'quoted="x%3Dy"; Domain=.example.com; Path=/',
        ]),
      },
      { mirrorBackendCookies: ["pref", "quoted"] },
    );
    const { backend, browser, clock, next } = app;
    const jar = (await browser.token())?.backend?.cookies ?? [];
    expect(jar.find((cookie) => cookie.name === "pref")).toEqual({
      name: "pref",
      value: "a%20b%2Fc==",
      path: "/",
    });
    expect(jar.find((cookie) => cookie.name === "quoted")?.value).toBe('"x%3Dy"');

    clock.advance(10);
    const stale = await staleOf(browser);
    const response = await next.refreshRoute.GET(
      nextRequest(`/api/auth/refresh?callbackUrl=%2F&stale=${stale}`, browser.cookieHeader()),
    );
    expect(response.status).toBe(307);
    // Sent back to the backend exactly as received.
    const [sent = ""] = refreshCookieHeaders(backend);
    expect(sent.split("; ")).toEqual(
      expect.arrayContaining(["pref=a%20b%2Fc==", 'quoted="x%3Dy"']),
    );
    // Mirrored to the browser: same bytes, no Domain, HttpOnly.
    const [pref = ""] = setCookiesNamed(response, "pref");
    const [quoted = ""] = setCookiesNamed(response, "quoted");
    expect(pref.split(";")[0]).toBe("pref=a%20b%2Fc==");
    expect(quoted.split(";")[0]).toBe('quoted="x%3Dy"');
    for (const header of [pref, quoted]) {
      expect(header).not.toMatch(/domain/i);
      expect(header).toMatch(/HttpOnly/);
    }
  });

  it("a backend deletion (Max-Age=0 or a past Expires) removes the cookie from the jar; it is not sent again", async () => {
    const { backend, browser, clock } = await signedIn({ tokenPlacement: "body" });
    const names = async () =>
      (await browser.token())?.backend?.cookies.map((cookie) => cookie.name).sort();
    expect(await names()).toEqual(["backend_sid", "theme"]);

    backend.injectFault("refresh", { headers: { "Set-Cookie": "theme=; Max-Age=0; Path=/" } });
    clock.advance(590);
    await browser.session();
    expect(await names()).toEqual(["backend_sid"]);

    backend.injectFault("refresh", {
      headers: { "Set-Cookie": "backend_sid=gone; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Path=/" },
    });
    clock.advance(600);
    await browser.session();
    expect(await names()).toEqual([]);

    clock.advance(600);
    expect((await browser.session())?.error).toBeUndefined();
    const sent = refreshCookieHeaders(backend);
    expect(sent).toHaveLength(3);
    expect(sent[0]).toMatch(/theme=dark/);
    expect(sent[1]).not.toMatch(/theme=/);
    expect(sent[1]).toMatch(/backend_sid=/);
    expect(sent[2]).toBe("");
  });
});

describe("oversized sessions", () => {
  it("an oversized session is chunked, reassembled on the next read, stale chunks deleted when it shrinks; the oversize cookie is reported", async () => {
    const big = "x".repeat(5_000);
    const { backend, browser, clock, logger, response } = await signedIn(
      { tokenPlacement: "body" },
      {
        sessionBudgetBytes: 16_384,
        fetch: addingSetCookies("/auth/login", () => [`big=${big}; Path=/`]),
      },
    );
    expect(logger.lines).toContain(
      'warn backend cookie "big" exceeds 4096 bytes; browsers would drop it',
    );
    // Chunked by Auth.js: every cookie the browser gets fits the browser's limit.
    const chunks = chunkNames(browser);
    expect(chunks.length).toBeGreaterThanOrEqual(2);
    expect(browser.cookies.has(SESSION_COOKIE)).toBe(false);
    for (const header of response.headers.getSetCookie()) {
      expect(header.split(";")[0]?.length).toBeLessThanOrEqual(4096);
    }
    // Reassembled on the next read: the session works and still holds the cookie, byte-exact.
    expect((await browser.session())?.user?.email).toBe(ADMIN.email);
    const jar = (await decodeSession(browser))?.backend?.cookies ?? [];
    expect(jar.find((cookie) => cookie.name === "big")?.value).toBe(big);

    // Reported, not dropped: the backend keeps receiving it.
    backend.injectFault("refresh", { headers: { "Set-Cookie": "big=; Max-Age=0; Path=/" } });
    clock.advance(590);
    const shrunk = await browser.request("/session");
    const [sent] = backend.requests.filter((request) => request.endpoint === "refresh");
    expect(sent?.cookies.big).toBe(big);

    // The backend deleted it: one plain cookie again, every stale chunk deleted.
    for (const chunk of chunks) {
      expect(setCookiesNamed(shrunk, chunk)).toEqual([expect.stringMatching(/Max-Age=0/i)]);
    }
    expect(chunkNames(browser)).toEqual([]);
    expect(browser.cookies.has(SESSION_COOKIE)).toBe(true);
    const state = (await decodeSessionCookie(browser.cookies.get(SESSION_COOKIE)))?.backend;
    expect(state?.cookies.map((cookie) => cookie.name)).not.toContain("big");
    expect((await browser.session())?.error).toBeUndefined();
  });

  it("proxy: a chunked session that shrinks reaches Server Components as one cookie, stale chunks removed", async () => {
    const big = "y".repeat(5_000);
    const app = await nextApp(
      {},
      {
        sessionBudgetBytes: 16_384,
        fetch: addingSetCookies("/auth/login", () => [`big=${big}; Path=/`]),
      },
    );
    const { backend, browser, clock, next } = app;
    const chunks = chunkNames(browser);
    expect(chunks.length).toBeGreaterThanOrEqual(2);

    backend.injectFault("refresh", { headers: { "Set-Cookie": "big=; Max-Age=0; Path=/" } });
    clock.advance(590);
    const response = await next.proxy({ protect: ["/dashboard"] })(
      nextRequest("/dashboard", browser.cookieHeader()),
    );
    expect(response.headers.get("location")).toBeNull();
    expect(backend.stats.refreshSucceeded).toBe(1);
    const forwarded = (response.headers.get("x-middleware-request-cookie") ?? "").split("; ");
    const names = forwarded.map((pair) => pair.slice(0, pair.indexOf("=")));
    expect(names).toContain(SESSION_COOKIE);
    for (const chunk of chunks) expect(names).not.toContain(chunk);
    const session = forwarded.find((pair) => pair.startsWith(`${SESSION_COOKIE}=`)) ?? "";
    const token = await decodeSessionCookie(session.slice(SESSION_COOKIE.length + 1));
    expect(token?.backend?.cookies.map((cookie) => cookie.name)).not.toContain("big");
    for (const chunk of chunks) {
      expect(setCookiesNamed(response, chunk)).toEqual([expect.stringMatching(/Max-Age=0/i)]);
    }
  });
});

describe("backend cookies mirrored to the browser", () => {
  /** A Next.js app mirroring every backend cookie, whose browser already holds the copies. */
  async function mirroring() {
    let extra: string[] = [];
    const app = await nextApp(
      {},
      { sessionBudgetBytes: 16_384, fetch: addingSetCookies("/auth/refresh", () => extra) },
      { mirrorBackendCookies: true },
    );
    const proxy = app.next.proxy({ protect: ["/dashboard"] });
    const visit = async (path = "/dashboard") => {
      const response = await proxy(nextRequest(path, app.browser.cookieHeader()));
      app.browser.store(response);
      return response;
    };
    app.clock.advance(590);
    await visit(); // refreshed: the copies are set
    expect(app.browser.cookies.get("theme")).toBe("dark");
    expect(app.browser.cookies.has("backend_sid")).toBe(true);
    expect(app.browser.cookies.has("refresh_token")).toBe(false);
    return { ...app, visit, setExtra: (headers: string[]) => (extra = headers) };
  }

  it("a backend deletion (Max-Age=0) on refresh also deletes the browser's copy", async () => {
    const { backend, browser, clock, visit, setExtra } = await mirroring();
    setExtra(["theme=; Max-Age=0; Path=/"]);
    clock.advance(600);
    const response = await visit();
    expect(backend.stats.refreshSucceeded).toBe(2);
    expect(setCookiesNamed(response, "theme")).toEqual([expect.stringMatching(/Max-Age=0/i)]);
    expect(browser.cookies.has("theme")).toBe(false);
    expect(browser.cookies.has("backend_sid")).toBe(true);
  });

  it("when a refresh is rejected the browser's copies are deleted with the session (proxy and refresh route)", async () => {
    const { backend, browser, clock, next, visit } = await mirroring();
    const before = browser.clone();
    backend.revokeAll();
    clock.advance(600);
    const response = await visit();
    expect(new URL(response.headers.get("location") ?? "", ORIGIN).pathname).toBe(
      "/api/auth/expired",
    );
    for (const name of ["theme", "backend_sid"]) {
      expect(setCookiesNamed(response, name)).toEqual([expect.stringMatching(/Max-Age=0/i)]);
      expect(browser.cookies.has(name)).toBe(false);
    }
    // The same through the refresh route (reached after a backend 401).
    const stale = await staleOf(before);
    const viaRoute = await next.refreshRoute.GET(
      nextRequest(
        `/api/auth/refresh?callbackUrl=%2Fdashboard&stale=${stale}`,
        before.cookieHeader(),
      ),
    );
    expect(new URL(viaRoute.headers.get("location") ?? "", ORIGIN).pathname).toBe(
      "/api/auth/expired",
    );
    for (const name of ["theme", "backend_sid"]) {
      expect(setCookiesNamed(viaRoute, name)).toEqual([expect.stringMatching(/Max-Age=0/i)]);
    }
  });

  it("copies set through Next.js cookies() (login helpers) keep backend values byte-exact, e.g. an Express s%3A session id", () => {
    const header = (value: string) => {
      const response = NextResponse.next();
      response.cookies.set("sid", value, { path: "/", httpOnly: true });
      return response.headers.getSetCookie()[0]?.split(";")[0];
    };
    const express = "s%3AZq1l9Tx.aB%2BcD%2Fe";
    // Next.js URL-encodes what it is given: the raw value would arrive double-encoded.
    expect(header(express)).toBe("sid=s%253AZq1l9Tx.aB%252BcD%252Fe");
    for (const value of [express, "eyJhbGciOi.eyJzdWIi.c2ln", "f1ea5066-733d-48d1", "dark"]) {
      expect(header(valueForNextCookies(value) ?? "")).toBe(`sid=${value}`);
    }
    // No string encodes to a raw "=" or a quote: such values are not set through cookies().
    expect(valueForNextCookies("abc==")).toBeUndefined();
    expect(valueForNextCookies('"quoted"')).toBeUndefined();
    expect(valueForNextCookies("%E0%A4%A")).toBeUndefined();
  });
});

describe("hostile backend cookies in the jar and in the browser's copies", () => {
  async function mirroredApp() {
    const hostile = await hostileSetup({
      loginSetCookies: [
        "wide=1; Path=/; SameSite=None; Secure",
        "authjs-backend.retried=forged; Path=/",
        "__Host-sid=x; Path=/; Secure",
        "dup=root; Path=/",
        "dup=api; Path=/api",
      ],
    });
    const next = nextBackend(hostile.config, { mirrorBackendCookies: true });
    const browser = new AuthClient(next.authConfig(new Request(ORIGIN)), "/auth");
    await browser.signIn(HOSTILE_USER);
    return { ...hostile, next, browser };
  }

  it("a backend cannot set this package's own cookies (authjs-backend.*): refused and logged by name", async () => {
    const { browser, logger } = await mirroredApp();
    const names = (await browser.token())?.backend?.cookies.map((cookie) => cookie.name);
    expect(names).not.toContain("authjs-backend.retried");
    expect(logger.lines).toContain(
      'warn ignored backend cookie "authjs-backend.retried": ReservedName',
    );
  });

  it("copies are SameSite=Lax even when the backend says None, never a __Host-/__Secure- name, one per name and path; the expired route deletes every path", async () => {
    const { browser, next, clock } = await mirroredApp();
    clock.advance(590);
    const response = await next.proxy()(nextRequest("/dashboard", browser.cookieHeader()));
    const copies = response.headers
      .getSetCookie()
      .filter((header) => !header.startsWith("authjs."));
    expect(copies.filter((header) => header.startsWith("wide="))).toEqual([
      expect.stringMatching(/; SameSite=Lax$/),
    ]);
    expect(copies.some((header) => /^__host-/i.test(header))).toBe(false);
    expect(copies.filter((header) => header.startsWith("dup="))).toEqual([
      expect.stringMatching(/^dup=root; Path=\/;/),
      expect.stringMatching(/^dup=api; Path=\/api;/),
    ]);
    browser.store(response);
    const expired = await next.expiredRoute.GET(
      nextRequest("/api/auth/expired", `${browser.cookieHeader()}; dup=root`),
    );
    const deletions = expired.headers.getSetCookie().filter((header) => header.startsWith("dup="));
    expect(deletions).toEqual([
      expect.stringMatching(/^dup=; Max-Age=0; Path=\/;/),
      expect.stringMatching(/^dup=; Max-Age=0; Path=\/api;/),
    ]);
  });
});
