import { randomUUID } from "node:crypto";
/**
 * Backends that behave unlike the reference backend: odd field names, unusual statuses, cookie
 * paths, old tokens. Each runs a tiny real HTTP server on 127.0.0.1 and the real `Auth()`.
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { AuthConfig } from "@auth/core";
import { afterEach, describe, expect, it } from "vitest";
import {
  BackendCredentials,
  type BackendCredentialsOptions,
  MemoryCoordinator,
  safeCallbackPath,
  withBackend,
} from "../src/index.js";
import { isReservedCookieName, readSetCookies } from "../src/session/cookie-jar.js";
import {
  ADMIN,
  AuthClient,
  HOSTILE_USER,
  hostileSetup,
  recordingLogger,
  SECRET,
  signedIn,
} from "./harness/index.js";

type Handler = (
  request: IncomingMessage & { body: string },
  response: ServerResponse,
) => void | Promise<void>;

const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const close of closers.splice(0)) await close();
});

async function quirkyBackend(handler: Handler): Promise<string> {
  const server = createServer(async (request, response) => {
    let body = "";
    for await (const chunk of request) body += chunk;
    await handler(Object.assign(request, { body }), response);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  closers.push(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  );
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

function client(baseUrl: string, options: Partial<BackendCredentialsOptions> = {}) {
  let offsetMs = 0;
  const now = () => Date.now() + offsetMs;
  const logger = recordingLogger();
  const config = withBackend({
    secret: SECRET,
    trustHost: true,
    basePath: "/auth",
    logger: { error: () => {}, warn: () => {}, debug: () => {} },
    providers: [
      BackendCredentials({
        baseUrl,
        logger,
        now,
        coordination: new MemoryCoordinator({ now, scope: `test-${randomUUID()}` }),
        ...options,
      }),
    ],
  }) as AuthConfig;
  return {
    browser: new AuthClient(config),
    logger,
    advance: (s: number) => (offsetMs += s * 1000),
  };
}

const json = (response: ServerResponse, status: number, body: unknown, cookies: string[] = []) => {
  response.writeHead(status, { "content-type": "application/json", "set-cookie": cookies });
  response.end(JSON.stringify(body));
};

/** Presents `refreshToken` to the backend's refresh endpoint, as a replaying client would. */
const presentRefreshToken = (backendUrl: string, refreshToken: string | undefined) =>
  fetch(`${backendUrl}/auth/refresh`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ refreshToken }),
  });

const jwt = (claims: Record<string, unknown>) =>
  `eyJhbGciOiJIUzI1NiJ9.${Buffer.from(JSON.stringify(claims)).toString("base64url")}.c2lnbmF0dXJl`;

describe("profile mapping never copies credentials to the session", () => {
  it("a login body with `token`, `jwt`, expiry and session fields exposes only the profile; listed fields never carry a token", async () => {
    const secret = "opaque-access-token-value-1234567890";
    const url = await quirkyBackend((_request, response) =>
      json(response, 200, {
        id: 7,
        email: "ada@example.com",
        name: "Ada",
        token: secret,
        expires_in: 900,
        jwt: `x${secret}`,
        sessionId: "s-1",
        scope: "all",
        department: "Research",
        preferences: { theme: "dark" },
        nested: { copy: secret },
      }),
    );
    const { browser } = client(url);
    await browser.signIn(ADMIN);
    const session = await browser.session();
    expect(session?.user).toEqual({
      image: null,
      id: "7",
      email: "ada@example.com",
      name: "Ada",
      roles: [],
    });
    const listed = client(url, {
      profileFields: ["department", "preferences", "nested", "token", "jwt"],
    }).browser;
    await listed.signIn(ADMIN);
    const withFields = await listed.session();
    expect(withFields?.user).toEqual({
      image: null,
      id: "7",
      email: "ada@example.com",
      name: "Ada",
      roles: [],
      department: "Research",
      preferences: { theme: "dark" },
    });
    expect(JSON.stringify(session)).not.toContain(secret);
    expect(JSON.stringify(withFields)).not.toContain(secret);
  });

  it("from access-token claims only the standard profile is read", async () => {
    const access = jwt({
      sub: "u1",
      name: "Ada",
      email: "a@example.com",
      roles: ["admin"],
      sid: "family-1",
      scope: "x",
      exp: Math.floor(Date.now() / 1000) + 900,
    });
    const url = await quirkyBackend((_request, response) =>
      json(response, 200, { accessToken: access, refreshToken: "r0-refresh-token" }),
    );
    const { browser } = client(url);
    await browser.signIn(ADMIN);
    expect((await browser.session())?.user).toEqual({
      image: null,
      id: "u1",
      name: "Ada",
      email: "a@example.com",
      roles: ["admin"],
    });
  });
});

describe("refresh statuses other than 400/401/403 never end the session", () => {
  for (const status of [302, 404, 409, 422]) {
    it(`${status} from the refresh endpoint is transient (RefreshUnavailable), logged as unexpected (a redirect with its hint)`, async () => {
      const harness = await signedIn();
      const { browser } = harness;
      harness.backend.injectFault("refresh", { status, body: { error: "whatever" } });
      harness.clock.advance(590);
      const session = await browser.session();
      expect(session?.error).toBe("RefreshUnavailable");
      expect(session?.accessTokenExpiresAt).toBeGreaterThan(harness.clock.now() / 1000);
      expect(harness.logger.lines.join("\n")).toContain(
        status === 302
          ? "error refresh: POST /auth/refresh answered 302, a redirect to no Location"
          : `unexpected status ${status}`,
      );
    });
  }
});

describe("refresh grants that are not a token", () => {
  it("a cookie-only grant sends the cookies, never the cookie header as a token", async () => {
    let refreshBody = "unset";
    const url = await quirkyBackend((request, response) => {
      if (request.url === "/auth/login") {
        return json(response, 200, { accessToken: "a0-access-token", expiresIn: 600, id: "1" }, [
          "sid=SESSIONSECRET; Path=/; HttpOnly",
        ]);
      }
      refreshBody = request.body;
      expect(request.headers.cookie).toBe("sid=SESSIONSECRET");
      expect(request.headers.authorization).toBeUndefined();
      return json(response, 200, { accessToken: "a1-access-token", expiresIn: 600 });
    });
    const { browser, advance } = client(url, { refreshTokenTransport: "bearer" });
    await browser.signIn(ADMIN);
    advance(590);
    await browser.session();
    expect(refreshBody).toBe("");
    expect((await browser.token())?.backend?.accessToken).toBe("a1-access-token");
  });

  it("refresh cookies stored at two paths: the one the refresh endpoint receives first is used", async () => {
    const seen: string[] = [];
    let issued = 0;
    const url = await quirkyBackend((request, response) => {
      const rt = /(?:^|; )rt=([^;]+)/.exec(request.headers.cookie ?? "")?.[1];
      if (request.url === "/v1/sessions") {
        return json(response, 200, { accessToken: "a-0", expiresIn: 600, id: "1" }, ["rt=R0"]);
      }
      seen.push(rt ?? "none");
      issued++;
      // No Path attribute: the default path is the refresh URL's directory, /v1/sessions.
      return json(response, 200, { accessToken: `a-${issued}`, expiresIn: 600 }, [`rt=R${issued}`]);
    });
    const { browser, advance } = client(url, {
      endpoints: { login: "/v1/sessions", refresh: "/v1/sessions/refresh" },
      tokens: { refreshToken: { cookie: "rt" } },
    });
    await browser.signIn(ADMIN);
    for (let i = 0; i < 3; i++) {
      advance(590);
      await browser.session();
    }
    expect(seen).toEqual(["R0", "R1", "R2"]);
  });
});

describe("token age is not clock skew", () => {
  it("an access token issued 10 minutes ago with 5 minutes left is stored with 5 minutes left", async () => {
    const now = Math.floor(Date.now() / 1000);
    const old = jwt({ sub: "1", iat: now - 600, exp: now + 300 });
    const url = await quirkyBackend((_request, response) =>
      json(response, 200, { accessToken: old, refreshToken: "r0-refresh-token" }),
    );
    const { browser } = client(url);
    await browser.signIn(ADMIN);
    const expiresAt = (await browser.token())?.backend?.accessTokenExpiresAt ?? 0;
    expect(Math.abs(expiresAt - (now + 300))).toBeLessThanOrEqual(2);
  });
});

describe("small contracts", () => {
  it("a custom Auth.js session cookie name is reserved together with its chunks", () => {
    const custom = new Set(["app.session"]);
    expect(isReservedCookieName("app.session", custom)).toBe(true);
    expect(isReservedCookieName("app.session.0", custom)).toBe(true);
    expect(isReservedCookieName("app.session.12", custom)).toBe(true);
    expect(isReservedCookieName("app.sessions", custom)).toBe(false);
  });

  it("without a refresh endpoint the session lives until the access token expires, then ends", async () => {
    const harness = await signedIn({}, { endpoints: { refresh: false } });
    const { browser } = harness;
    harness.clock.advance(590);
    expect((await browser.session())?.error).toBeUndefined();
    harness.clock.advance(20);
    expect((await browser.session())?.error).toBe("AccessTokenExpired");
    expect(harness.backend.stats.refresh).toBe(0);
  });
});

describe("cookie paths the browser could not be given", () => {
  it("a non-ASCII Path is ignored like a browser would, so the cookie can be mirrored", () => {
    const headers = new Headers();
    headers.append("set-cookie", "pref=1; Path=/caf\u00e9");
    headers.append("set-cookie", "other=2; Path=/a<b");
    const changes = readSetCookies(headers, new URL("http://127.0.0.1/auth/login"), 1_800_000_000);
    expect(changes.set.map((cookie) => [cookie.name, cookie.path])).toEqual([
      ["pref", "/auth"],
      ["other", "/auth"],
    ]);
  });
});

describe("guards only unusual backends and inputs reach", () => {
  it("safeCallbackPath: paths that become //host only after URL parsing fall back to /", () => {
    for (const value of [
      "/.//evil.example",
      "/x/..//evil.example",
      "http://localhost:3000//evil.example",
      "/./\\evil.example",
    ]) {
      expect(safeCallbackPath(value, "http://localhost:3000"), value).toBe("/");
    }
  });

  for (const [label, status, body] of [
    ["a plain 401 without a body", 401, ""],
    ["invalid_grant with status 409", 409, { error: "invalid_grant" }],
    ["invalid_grant in a 200", 200, { error: "invalid_grant" }],
  ] as const) {
    it(`refresh answered ${label}: the session ends with RefreshTokenRejected and is never refreshed again`, async () => {
      let refreshes = 0;
      const url = await quirkyBackend((request, response) => {
        if (request.url === "/auth/login") {
          return json(response, 200, {
            accessToken: "a0-access-token",
            refreshToken: "r0-refresh-token",
            expiresIn: 600,
            id: "1",
          });
        }
        refreshes++;
        if (typeof body === "string") {
          response.writeHead(status);
          response.end();
          return;
        }
        return json(response, status, body);
      });
      const { browser, advance } = client(url);
      await browser.signIn(ADMIN);
      advance(590);
      expect((await browser.session())?.error).toBe("RefreshTokenRejected");
      advance(590);
      await browser.session();
      expect(refreshes).toBe(1);
    });
  }

  it("a backend clock 2 minutes ahead and no Date header: the JWT's iat corrects the expiry", async () => {
    const url = await quirkyBackend((_request, response) => {
      response.sendDate = false;
      const iat = Math.floor(Date.now() / 1000) + 120;
      return json(response, 200, {
        accessToken: jwt({ sub: "1", iat, exp: iat + 600 }),
        refreshToken: "r0-refresh-token",
        id: "1",
      });
    });
    const { browser } = client(url);
    await browser.signIn(ADMIN);
    const state = (await browser.token())?.backend;
    const lifetime = (state?.accessTokenExpiresAt ?? 0) - (state?.receivedAt ?? 0);
    expect(lifetime).toBeGreaterThan(595);
    expect(lifetime).toBeLessThan(605);
  });

  it("a rotated refresh token's own expiry replaces the old one (sliding refresh expiry)", async () => {
    let rotation = 0;
    const url = await quirkyBackend((request, response) => {
      if (request.url !== "/auth/login") rotation++;
      return json(response, 200, {
        accessToken: `a${rotation}-access-token`,
        refreshToken: `r${rotation}-refresh-token`,
        expiresIn: 600,
        refreshExpiresIn: request.url === "/auth/login" ? 3600 : 7200,
        id: "1",
      });
    });
    const { browser, advance } = client(url);
    await browser.signIn(ADMIN);
    const before = (await browser.token())?.backend;
    advance(590);
    await browser.session();
    const after = (await browser.token())?.backend;
    expect(rotation).toBe(1);
    expect((after?.refreshTokenExpiresAt ?? 0) - (after?.receivedAt ?? 0)).toBeCloseTo(7200, 0);
    expect(after?.refreshTokenExpiresAt).toBeGreaterThan(
      (before?.refreshTokenExpiresAt ?? 0) + 3000,
    );
  });

  it("sign-out sends the refresh token in the logout body: a backend that revokes by body only rejects it afterwards", async () => {
    const { backend, client: hostileClient } = await hostileSetup();
    const browser = hostileClient();
    await browser.signIn(HOSTILE_USER);
    const refreshToken = (await browser.token())?.backend?.refreshToken;
    expect(refreshToken).toBeTruthy();
    await browser.signOut();
    expect(backend.stats.logout).toBe(1);
    expect((await presentRefreshToken(backend.url, refreshToken)).status).toBe(401);
  });

  it("a late request holding a token five rotations old follows the whole chain to the newest tokens (no reuse)", async () => {
    const { backend, browser, clock } = await signedIn(
      { tokenPlacement: "body", accessTokenTtlSeconds: 20 },
      { gracePeriodSeconds: 90 },
    );
    const oldest = browser.clone();
    for (let i = 0; i < 5; i++) {
      clock.advance(12);
      await browser.session();
    }
    expect(backend.stats.refreshSucceeded).toBe(5);
    const newest = (await browser.token())?.backend?.refreshToken;
    clock.advance(2);
    const late = await oldest.session();
    expect(late?.error).toBeUndefined();
    expect((await oldest.token())?.backend?.refreshToken).toBe(newest);
    expect(backend.stats.reuseDetected).toBe(0);
    expect(backend.stats.refreshSucceeded).toBe(5);
  });
});

describe("the reference backend's quirk modes, through Auth()", () => {
  it("sendDateHeader false and a backend clock 2 minutes ahead: the JWT's iat corrects the expiry", async () => {
    const { browser, before, backend } = await signedIn({
      sendDateHeader: false,
      clockSkewSeconds: 120,
      expiryStyle: "jwt",
    });
    expect((await fetch(`${backend.url}/users/me`)).headers.get("date")).toBeNull();
    const lifetime = (before?.accessTokenExpiresAt ?? 0) - (before?.receivedAt ?? 0);
    expect(lifetime).toBeGreaterThan(595);
    expect(lifetime).toBeLessThan(605);
    // And the session is not refreshed early because of the skew.
    expect((await browser.session())?.error).toBeUndefined();
  });

  it("refreshExpiry sliding: each rotation's own refresh expiry is stored, so the session outlives the first token's lifetime", async () => {
    const { browser, backend, clock, before } = await signedIn({
      refreshExpiry: "sliding",
      refreshTokenTtlSeconds: 3600,
      tokenPlacement: "body",
    });
    expect((before?.refreshTokenExpiresAt ?? 0) - (before?.receivedAt ?? 0)).toBeCloseTo(3600, 0);
    for (let i = 0; i < 8; i++) {
      clock.advance(590);
      expect((await browser.session())?.error).toBeUndefined();
      const state = (await browser.token())?.backend;
      expect((state?.refreshTokenExpiresAt ?? 0) - (state?.receivedAt ?? 0)).toBeCloseTo(3600, 0);
    }
    // 8 × 590 s = 4720 s: past the first token's 3600 s, still signed in.
    expect(backend.stats.refreshSucceeded).toBe(8);
    expect(backend.stats.refreshRejected).toBe(0);
  });

  it("logoutRevokes body: sign-out sends the refresh token in the logout body, so the backend session ends", async () => {
    const { browser, backend } = await signedIn({ logoutRevokes: "body", tokenPlacement: "body" });
    const refreshToken = (await browser.token())?.backend?.refreshToken;
    expect(refreshToken).toBeTruthy();
    await browser.signOut();
    expect(backend.stats.logout).toBe(1);
    expect((await presentRefreshToken(backend.url, refreshToken)).status).toBe(401);
  });

  for (const [label, refreshRejection] of [
    ["a plain 401 without a body", { status: 401 }],
    ["403 with a text body", { status: 403, body: "Forbidden" }],
    ["400 invalid_grant", { status: 400, body: { error: "invalid_grant" } }],
    ["invalid_grant with status 422", { status: 422, body: { error: "invalid_grant" } }],
    ["invalid_grant in a 200", { status: 200, body: { error: "invalid_grant" } }],
  ] as const) {
    it(`refreshRejection ${label}: a revoked session ends with RefreshTokenRejected and is not refreshed again`, async () => {
      const { browser, backend, clock } = await signedIn({ refreshRejection });
      clock.advance(590);
      expect((await browser.session())?.error).toBeUndefined();
      backend.revokeAll();
      clock.advance(590);
      expect((await browser.session())?.error).toBe("RefreshTokenRejected");
      clock.advance(590);
      await browser.session();
      expect(backend.stats).toMatchObject({ refresh: 2, refreshSucceeded: 1, refreshRejected: 1 });
    });
  }

  it("refreshRejection 404 not_found: not a rejection of the token; the session is kept as RefreshUnavailable", async () => {
    const { browser, backend, clock } = await signedIn({
      refreshRejection: { status: 404, body: { error: "not_found" } },
    });
    backend.revokeAll();
    clock.advance(590);
    const session = await browser.session();
    expect(session?.error).toBe("RefreshUnavailable");
    expect(session?.user?.email).toBe(ADMIN.email);
  });
});
