import { describe, expect, it } from "vitest";
import type { BackendOptions } from "../example-app/backend/server.mjs";
import type { BackendCredentialsOptions } from "../src/index.js";
import {
  ADMIN,
  EVALUATOR,
  ORIGIN,
  SESSION_COOKIE,
  setup,
  signInCode,
  USER,
} from "./harness/index.js";

describe("sign-in in each token placement", () => {
  for (const tokenPlacement of ["body", "cookie", "mixed"] as const) {
    it(`${tokenPlacement}: stores the tokens and exposes the profile, never the tokens`, async () => {
      const { backend, client } = await setup({ tokenPlacement, accessTokenTtlSeconds: 600 });
      const browser = client();
      const response = await browser.signIn(ADMIN);
      expect(response.status).toBe(302);
      expect(response.headers.get("location")).toBe(`${ORIGIN}/dashboard`);
      expect(browser.cookies.has(SESSION_COOKIE)).toBe(true);

      const session = await browser.session();
      expect(session?.user).toMatchObject({ id: "1", email: ADMIN.email, roles: ["admin"] });
      expect(session?.error).toBeUndefined();
      expect(session?.accessTokenExpiresAt).toBeGreaterThan(Date.now() / 1000 + 500);
      expect(session?.accessToken).toBeUndefined();

      const token = await browser.token();
      const state = token?.backend;
      expect(state?.user.id).toBe("1");
      // The refresh token is in the session: in the body field or in the backend cookie jar.
      const refresh =
        state?.refreshToken ?? state?.cookies.find((c) => c.name === "refresh_token")?.value;
      expect(refresh).toMatch(/.{20,}/);
      expect(JSON.stringify(session)).not.toContain(refresh);
      for (const cookie of state?.cookies ?? []) {
        expect(JSON.stringify(session)).not.toContain(cookie.value);
      }
      expect(backend.stats.login).toBe(1);
    });
  }

  it("nested snake_case body: reads tokens from configured paths", async () => {
    const { client } = await setup(
      { tokenPlacement: "body", bodyShape: "nested", fieldCase: "snake" },
      {
        tokens: {
          accessToken: { body: "data.access_token" },
          refreshToken: { body: "data.refresh_token" },
        },
      },
    );
    const browser = client();
    await browser.signIn(ADMIN);
    const token = await browser.token();
    expect(token?.backend?.accessToken).toMatch(/^ey/);
    expect(token?.backend?.refreshToken).toBeTruthy();
  });
});

describe("expiry styles", () => {
  const ttl = 600;
  const cases: Array<[BackendOptions["expiryStyle"], Partial<BackendCredentialsOptions>]> = [
    ["jwt", {}],
    ["expires_in", {}],
    ["expires_at", {}],
    ["expires_at_ms", {}],
    ["none", { expiry: { accessToken: { lifetimeSeconds: ttl } } }],
  ];
  for (const [expiryStyle, provider] of cases) {
    it(`${expiryStyle}: access-token expiry is now + ${ttl}s`, async () => {
      const { client } = await setup({ expiryStyle, accessTokenTtlSeconds: ttl }, provider);
      const browser = client();
      const before = Date.now() / 1000;
      await browser.signIn(ADMIN);
      const session = await browser.session();
      expect(session?.accessTokenExpiresAt).toBeGreaterThanOrEqual(before + ttl - 2);
      expect(session?.accessTokenExpiresAt).toBeLessThanOrEqual(Date.now() / 1000 + ttl + 2);
    });
  }

  it("none without a configured lifetime: sign-in fails as misconfiguration, naming the gap", async () => {
    const { client, logger } = await setup({ expiryStyle: "none" });
    const browser = client();
    const response = await browser.signIn(ADMIN);
    expect(signInCode(response)).toBe("BackendResponseInvalid");
    expect(browser.cookies.has(SESSION_COOKIE)).toBe(false);
    expect(logger.lines.join("\n")).toMatch(/cannot tell when the access token expires/);
  });

  it("refresh-token expiry from refreshExpiresIn ends the session without a backend call", async () => {
    const { backend, client, clock } = await setup({
      accessTokenTtlSeconds: 300,
      refreshTokenTtlSeconds: 3600,
    });
    const browser = client();
    await browser.signIn(ADMIN);
    const token = await browser.token();
    expect(token?.backend?.refreshTokenExpiresAt).toBeGreaterThan(Date.now() / 1000 + 3500);
    clock.advance(3601);
    const session = await browser.session();
    expect(session?.error).toBe("RefreshTokenExpired");
    expect(backend.stats.refresh).toBe(0);
  });
});

describe("profile and roles", () => {
  it("profile endpoint: listed extra fields reach session.user", async () => {
    const { client, backend } = await setup(
      {},
      { endpoints: { profile: "/users/me" }, profileFields: ["department"] },
    );
    const browser = client();
    await browser.signIn(ADMIN);
    const session = await browser.session();
    expect(session?.user).toMatchObject({ id: "1", department: "Research", roles: ["admin"] });
    expect(backend.stats.me).toBe(1);
  });

  it("role rule: a user without an allowed role is refused and logged out at the backend", async () => {
    const { client, backend } = await setup({}, { allowedRoles: ["admin", "evaluator"] });
    const refused = client();
    const response = await refused.signIn(USER);
    expect(signInCode(response)).toBe("RoleNotAllowed");
    expect(refused.cookies.has(SESSION_COOKIE)).toBe(false);
    expect(backend.stats.logout).toBe(1);

    const admin = client();
    await admin.signIn(ADMIN);
    expect((await admin.session())?.user?.roles).toEqual(["admin"]);
    const evaluator = client();
    await evaluator.signIn(EVALUATOR);
    expect((await evaluator.session())?.user?.roles).toEqual(["evaluator"]);
  });
});
