/**
 * The Express layer (`authjs-backend-credentials/express`) through the real express +
 * @auth/express app of examples/express against the reference backend: sign-in, refresh before
 * the route (the route and `getSession` read the rotated session), single flight across
 * concurrent requests, a backend 401 answered by one forced refresh and one retry, and ended
 * sessions answered by `endedSession()`.
 */
import { randomUUID } from "node:crypto";
import type { AddressInfo } from "node:net";
import { describe, expect, it, onTestFinished } from "vitest";
import { startBackend } from "../example-app/backend/server.mjs";
import { createApp } from "../examples/express/app.js";
import { MemoryCoordinator } from "../src/index.js";
import {
  ADMIN,
  decodeSessionCookie,
  SECRET,
  SESSION_COOKIE,
  setCookiesNamed,
  setCookieValue,
  sharedClock,
} from "./harness/index.js";

/** A browser by hand: a cookie jar in front of `fetch`, redirects not followed. */
class Browser {
  readonly cookies = new Map<string, string>();
  constructor(readonly origin: string) {}

  cookieHeader(): string {
    return [...this.cookies].map(([name, value]) => `${name}=${value}`).join("; ");
  }

  async request(path: string, init: RequestInit = {}): Promise<Response> {
    const headers = new Headers(init.headers);
    const cookie = this.cookieHeader();
    if (cookie) headers.set("cookie", cookie);
    const response = await fetch(`${this.origin}${path}`, {
      ...init,
      headers,
      redirect: "manual",
    });
    for (const header of response.headers.getSetCookie()) {
      const [pair = "", ...attributes] = header.split(";");
      const eq = pair.indexOf("=");
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      const expired = attributes.some((attribute) => {
        const [key = "", val = ""] = attribute.trim().split("=");
        if (key.toLowerCase() === "max-age") return Number(val) <= 0;
        if (key.toLowerCase() === "expires") return Date.parse(val) <= Date.now();
        return false;
      });
      if (expired || value === "") this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
    return response;
  }

  async signIn(fields: Record<string, string>): Promise<Response> {
    const csrf = await this.request("/auth/csrf");
    const { csrfToken } = (await csrf.json()) as { csrfToken: string };
    return this.request("/auth/callback/backend", {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ ...fields, csrfToken, callbackUrl: `${this.origin}/` }),
    });
  }

  clone(): Browser {
    const copy = new Browser(this.origin);
    for (const [name, value] of this.cookies) copy.cookies.set(name, value);
    return copy;
  }
}

/** The example app on an ephemeral port against a fresh reference backend, signed in as ADMIN. */
async function expressApp() {
  const backend = await startBackend({ accessTokenTtlSeconds: 600 });
  onTestFinished(() => backend.close());
  const clock = sharedClock(backend);
  const quiet = { warn: () => {}, error: () => {} };
  const app = createApp({
    backendUrl: backend.url,
    secret: SECRET,
    provider: {
      now: clock.now,
      coordination: new MemoryCoordinator({ now: clock.now, scope: `test-${randomUUID()}` }),
      logger: quiet,
    },
  });
  const server = app.listen(0, "127.0.0.1");
  await new Promise<void>((resolve, reject) => {
    server.once("listening", resolve);
    server.once("error", reject);
  });
  onTestFinished(
    () => new Promise<void>((resolve) => server.close(() => resolve()).closeAllConnections()),
  );
  const { port } = server.address() as AddressInfo;
  const browser = new Browser(`http://127.0.0.1:${port}`);
  const signIn = await browser.signIn(ADMIN);
  return { backend, clock, browser, signIn };
}

const expiresAt = async (value: string | undefined) =>
  (await decodeSessionCookie(value))?.backend?.accessTokenExpiresAt ?? 0;

describe("express: backendSession", () => {
  it("signs in through POST /auth/callback/backend and GET /me returns the session", async () => {
    const { browser, signIn, backend } = await expressApp();
    expect(signIn.status).toBe(302);
    expect(browser.cookies.get(SESSION_COOKIE)).toBeTruthy();
    const me = await browser.request("/me");
    expect(me.status).toBe(200);
    const session = (await me.json()) as { user: { email: string; roles: string[] } };
    expect(session.user.email).toBe(ADMIN.email);
    expect(session.user.roles).toEqual(["admin"]);
    expect(backend.stats.login).toBe(1);
    expect(backend.stats.refresh).toBe(0);
  });

  it("refreshes a due token before the route: getSession in the route reads the rotated session and the response carries its cookie", async () => {
    const { browser, clock, backend } = await expressApp();
    clock.advance(590);
    const me = await browser.request("/me");
    expect(me.status).toBe(200);
    expect(backend.stats.refresh).toBe(1);
    const written = setCookieValue(me, SESSION_COOKIE);
    expect(written).toBeTruthy();
    expect(await expiresAt(written)).toBeGreaterThan(clock.now() / 1000 + 500);
    // The route ran with the rewritten Cookie header: getSession saw the new token.
    const session = (await me.json()) as { accessTokenExpiresAt: number };
    expect(session.accessTokenExpiresAt).toBe(await expiresAt(written));
    expect(me.headers.get("cache-control")).toBe("private, no-store");
    // The next request carries the new cookie and needs no refresh.
    expect((await browser.request("/api/items")).status).toBe(200);
    expect(backend.stats.refresh).toBe(1);
  });

  it("passes a fresh session through without a backend refresh or a Set-Cookie", async () => {
    const { browser, backend } = await expressApp();
    const items = await browser.request("/api/items");
    expect(items.status).toBe(200);
    expect(((await items.json()) as { items: unknown[] }).items).toHaveLength(3);
    expect(setCookiesNamed(items, SESSION_COOKIE)).toEqual([]);
    expect(backend.stats.refresh).toBe(0);
  });

  it("50 concurrent requests with one expired cookie make exactly 1 backend refresh and all 50 succeed", async () => {
    const { browser, clock, backend } = await expressApp();
    clock.advance(700); // past the access token's expiry (600 s)
    const responses = await Promise.all(
      Array.from({ length: 50 }, () => browser.clone().request("/api/items")),
    );
    expect(responses.map((response) => response.status)).toEqual(Array(50).fill(200));
    expect(backend.stats.refresh).toBe(1);
    expect(backend.stats.refreshSucceeded).toBe(1);
    expect(backend.stats.items).toBe(50);
    for (const response of responses) {
      expect(await expiresAt(setCookieValue(response, SESSION_COOKIE))).toBeGreaterThan(
        clock.now() / 1000 + 500,
      );
    }
  });

  it("leaves Auth.js's own routes under /auth to Auth.js", async () => {
    const { browser, clock, backend } = await expressApp();
    clock.advance(590);
    // Auth.js's session route refreshes by itself (once) and writes one session cookie.
    const session = await browser.request("/auth/session");
    expect(session.status).toBe(200);
    expect(setCookiesNamed(session, SESSION_COOKIE)).toHaveLength(1);
    expect(backend.stats.refresh).toBe(1);
  });
});

describe("express: res.locals.backend.fetch", () => {
  it("answers a backend 401 with one forced refresh and one retry, and writes the rotated cookie", async () => {
    const { browser, clock, backend } = await expressApp();
    backend.injectFault("items", { status: 401, body: { error: "invalid_token" }, times: 1 });
    const items = await browser.request("/api/items");
    expect(items.status).toBe(200);
    expect(((await items.json()) as { items: unknown[] }).items).toHaveLength(3);
    expect(backend.stats.refresh).toBe(1);
    expect(backend.stats.items).toBe(2);
    expect(await expiresAt(setCookieValue(items, SESSION_COOKIE))).toBeGreaterThan(
      clock.now() / 1000 + 500,
    );
    expect(setCookiesNamed(items, SESSION_COOKIE)).toHaveLength(1);
  });

  it("ends the session when the backend also rejects the freshly refreshed token: logout at the backend, cookie deleted, 401 AccessRevoked", async () => {
    const { browser, backend } = await expressApp();
    backend.injectFault("items", { status: 401, times: 2 });
    const items = await browser.request("/api/items");
    expect(items.status).toBe(401);
    expect(await items.json()).toEqual({ error: "AccessRevoked" });
    expect(backend.stats.refresh).toBe(1);
    expect(backend.stats.items).toBe(2);
    expect(backend.stats.logout).toBe(1);
    expect(browser.cookies.has(SESSION_COOKIE)).toBe(false);
  });
});

describe("express: endedSession", () => {
  it("a revoked refresh token ends the session: the session cookie is deleted and an API request gets 401 JSON", async () => {
    const { browser, clock, backend } = await expressApp();
    const navigation = browser.clone();
    backend.revokeAll();
    clock.advance(590);
    const items = await browser.request("/api/items");
    expect(items.status).toBe(401);
    expect(await items.json()).toEqual({ error: "RefreshTokenRejected" });
    expect(backend.stats.refresh).toBe(1);
    expect(backend.stats.items).toBe(0);
    // One Set-Cookie for the session, and it deletes it (not the ended session re-issued).
    const written = setCookiesNamed(items, SESSION_COOKIE);
    expect(written).toHaveLength(1);
    expect(written[0]).toMatch(/Max-Age=0/i);
    expect(browser.cookies.has(SESSION_COOKIE)).toBe(false);

    // A browser navigation with the same (now rejected) cookie goes to sign-in instead.
    const page = await navigation.request("/api/items?x=1", {
      headers: { accept: "text/html,application/xhtml+xml,*/*;q=0.8" },
    });
    expect(page.status).toBe(303);
    const location = new URL(page.headers.get("location") ?? "", "http://x");
    expect(location.pathname).toBe("/auth/signin");
    expect(location.searchParams.get("error")).toBe("SessionExpired");
    expect(location.searchParams.get("callbackUrl")).toBe("/api/items?x=1");
    expect(navigation.cookies.has(SESSION_COOKIE)).toBe(false);
    expect(backend.stats.refresh).toBe(1);
  });

  it("a request without a session gets 401 NoSession and no backend call", async () => {
    const { browser, backend } = await expressApp();
    browser.cookies.clear();
    const items = await browser.request("/api/items");
    expect(items.status).toBe(401);
    expect(await items.json()).toEqual({ error: "NoSession" });
    expect(backend.stats.items).toBe(0);
  });

  it("an unavailable backend during a due refresh answers 503 with Retry-After and keeps the session", async () => {
    const { browser, clock, backend } = await expressApp();
    clock.advance(700);
    backend.injectFault("refresh", { status: 503, times: 5 });
    const items = await browser.request("/api/items");
    expect(items.status).toBe(503);
    expect(items.headers.get("retry-after")).toBe("5");
    expect(await items.json()).toEqual({ error: "RefreshUnavailable" });
    expect(browser.cookies.get(SESSION_COOKIE)).toBeTruthy();
  });
});
