import { describe, expect, it } from "vitest";
import type { BackendOptions } from "../example-app/backend/server.mjs";
import type { BackendCredentialsOptions, BackendTokenState } from "../src/index.js";
import { ADMIN, SESSION_COOKIE, setup, tokenFromResponse } from "./helpers.js";

async function signedIn(
  backend: BackendOptions = {},
  provider: Partial<BackendCredentialsOptions> = {},
) {
  const harness = await setup({ accessTokenTtlSeconds: 600, ...backend }, provider);
  const browser = harness.client();
  await browser.signIn(ADMIN);
  return { ...harness, browser };
}

const refreshTokenOf = (state: BackendTokenState | undefined) =>
  state?.refreshToken ?? state?.cookies.find((cookie) => cookie.name === "refresh_token")?.value;

describe("refresh before expiry", () => {
  for (const tokenPlacement of ["body", "cookie", "mixed"] as const) {
    it(`${tokenPlacement}: refreshes within refreshBufferSeconds and stores the rotated refresh token`, async () => {
      const { backend, browser, clock } = await signedIn({ tokenPlacement });
      const first = await browser.token();

      clock.advance(500); // 100 s left, buffer is 60 s: nothing to do yet
      await browser.session();
      expect(backend.stats.refresh).toBe(0);

      clock.advance(50); // 50 s left: inside the buffer, the token is still valid
      const session = await browser.session();
      expect(backend.stats.refresh).toBe(1);
      expect(backend.stats.refreshSucceeded).toBe(1);
      const second = await browser.token();
      expect(refreshTokenOf(second?.backend)).toBeTruthy();
      expect(refreshTokenOf(second?.backend)).not.toBe(refreshTokenOf(first?.backend));
      expect(second?.backend?.accessTokenExpiresAt).toBeGreaterThan(
        first?.backend?.accessTokenExpiresAt ?? Number.POSITIVE_INFINITY,
      );
      expect(session?.accessTokenExpiresAt).toBe(second?.backend?.accessTokenExpiresAt);
      expect(session?.error).toBeUndefined();

      // The rotated token works for the next rotation (the backend accepts it: no reuse).
      clock.advance(600);
      expect((await browser.session())?.error).toBeUndefined();
      expect(backend.stats.refreshSucceeded).toBe(2);
      expect(backend.stats.reuseDetected).toBe(0);
    });
  }

  it("sends the stored backend cookies back to the refresh endpoint", async () => {
    const { backend, browser, clock } = await signedIn({ tokenPlacement: "mixed" });
    clock.advance(590);
    await browser.session();
    const refresh = backend.requests.find((request) => request.endpoint === "refresh");
    expect(refresh?.cookies.refresh_token).toBeTruthy();
    expect(refresh?.cookies.theme).toBe("dark");
  });

  it("keeps the old refresh token when the backend sends none", async () => {
    // A real fetch that drops the refreshToken field from refresh responses, modelling a backend
    // without rotation.
    const withoutRotation: typeof fetch = async (input, init) => {
      const response = await fetch(input, init);
      if (!String(input).endsWith("/auth/refresh") || !response.ok) return response;
      const { refreshToken: _dropped, ...body } = (await response.json()) as Record<
        string,
        unknown
      >;
      return Response.json(body, { status: response.status, headers: response.headers });
    };
    const { browser, clock, backend } = await signedIn(
      { tokenPlacement: "body" },
      { fetch: withoutRotation },
    );
    const before = (await browser.token())?.backend?.refreshToken;
    clock.advance(590);
    await browser.session();
    expect(backend.stats.refreshSucceeded).toBe(1);
    expect((await browser.token())?.backend?.refreshToken).toBe(before);
  });

  it("a backend clock 2 minutes ahead or behind never causes a refresh loop", async () => {
    for (const skew of [120, -120]) {
      const { backend, browser } = await signedIn({
        clockSkewSeconds: skew,
        accessTokenTtlSeconds: 60,
      });
      for (let i = 0; i < 5; i++) await browser.session();
      expect(backend.stats.refresh).toBe(0);
      const session = await browser.session();
      const remaining = (session?.accessTokenExpiresAt ?? 0) - Date.now() / 1000;
      expect(remaining).toBeGreaterThan(50);
      expect(remaining).toBeLessThanOrEqual(62);
      await backend.close();
    }
  });
});

describe("single flight", () => {
  it("50 concurrent session reads with an expired access token: exactly 1 backend refresh", async () => {
    const { backend, browser, clock } = await signedIn({ tokenPlacement: "mixed" });
    clock.advance(700); // the access token has expired
    const responses = await Promise.all(
      Array.from({ length: 50 }, () => browser.clone().request("/session")),
    );
    expect(backend.stats.refresh).toBe(1);
    expect(backend.stats.reuseDetected).toBe(0);
    const tokens = await Promise.all(responses.map(tokenFromResponse));
    const accessTokens = new Set(tokens.map((token) => token?.backend?.accessToken));
    const refreshTokens = new Set(tokens.map((token) => refreshTokenOf(token?.backend)));
    expect(accessTokens.size).toBe(1);
    expect(refreshTokens.size).toBe(1);
    expect([...accessTokens][0]).toBeTruthy();
    for (const response of responses) {
      const session = (await response.json()) as { error?: string };
      expect(session.error).toBeUndefined();
    }
  });
});

describe("grace cache", () => {
  it("a late request with the old refresh token inside the grace window gets the rotated tokens without a backend call", async () => {
    const { backend, browser, clock } = await signedIn({ tokenPlacement: "body" });
    const stale = browser.clone();
    clock.advance(700);
    await browser.session();
    expect(backend.stats.refresh).toBe(1);
    const rotated = await browser.token();

    clock.advance(10); // within the 30 s grace window
    const late = await stale.request("/session");
    expect(backend.stats.refresh).toBe(1);
    const lateToken = await tokenFromResponse(late);
    expect(lateToken?.backend?.refreshToken).toBe(rotated?.backend?.refreshToken);
    expect(lateToken?.backend?.accessToken).toBe(rotated?.backend?.accessToken);
  });

  it("a recent rotation of the presented token wins over its known expiry (refresh credential expiring with the access token)", async () => {
    // A backend whose refresh credential lives exactly as long as the access token.
    const expiresWithAccess: typeof fetch = async (input, init) => {
      const response = await fetch(input, init);
      if (!response.ok || !/\/auth\/(login|refresh)$/.test(String(input))) return response;
      const body = (await response.json()) as Record<string, unknown>;
      const headers = new Headers(response.headers);
      headers.delete("content-length");
      return Response.json(
        { ...body, refreshExpiresIn: body.expiresIn ?? 600 },
        { status: response.status, headers },
      );
    };
    const { backend, browser, clock } = await signedIn(
      { tokenPlacement: "body", expiryStyle: "expires_in" },
      { fetch: expiresWithAccess },
    );
    const stale = browser.clone();
    const staler = browser.clone();
    expect((await stale.token())?.backend?.refreshTokenExpiresAt).toBe(
      (await stale.token())?.backend?.accessTokenExpiresAt,
    );
    clock.advance(590);
    await browser.session();
    expect(backend.stats.refreshSucceeded).toBe(1);
    const rotated = await browser.token();

    clock.advance(15); // the old refresh token's known expiry has passed; its rotation is 15 s old
    const late = await stale.request("/session");
    expect(((await late.json()) as { error?: string }).error).toBeUndefined();
    const lateToken = await tokenFromResponse(late);
    expect(lateToken?.backend?.refreshToken).toBe(rotated?.backend?.refreshToken);
    expect(backend.stats.refresh).toBe(1);

    clock.advance(30); // past the grace window: the expiry stands
    expect((await staler.session())?.error).toBe("RefreshTokenExpired");
    expect(backend.stats.refresh).toBe(1);
  });

  it("outside the grace window the old token reaches the backend, which detects reuse and the session ends", async () => {
    const { backend, browser, clock } = await signedIn({ tokenPlacement: "body" });
    const stale = browser.clone();
    clock.advance(700);
    await browser.session();
    clock.advance(31); // grace window (30 s) is over
    const session = await stale.session();
    expect(backend.stats.refresh).toBe(2);
    expect(backend.stats.reuseDetected).toBe(1);
    expect(session?.error).toBe("RefreshTokenRejected");
    expect(session?.accessTokenExpiresAt).toBeUndefined();
    const state = (await stale.token())?.backend;
    expect(state?.refreshToken).toBeUndefined();
    expect(state?.accessToken).toBeUndefined();
    expect(state?.cookies).toEqual([]);
  });
});

describe("refresh failures", () => {
  for (const fault of [{ status: 503 }, { status: 429 }, { drop: true }] as const) {
    it(`transient (${JSON.stringify(fault)}) keeps the user signed in and retries later`, async () => {
      const { backend, browser, clock } = await signedIn();
      backend.injectFault("refresh", fault);
      clock.advance(590); // due for refresh, still valid for 10 s
      const session = await browser.session();
      expect(session?.user?.email).toBe(ADMIN.email);
      expect(session?.error).toBe("RefreshUnavailable");
      expect(session?.accessTokenExpiresAt).toBeGreaterThan(clock.now() / 1000);
      expect(browser.cookies.has(SESSION_COOKIE)).toBe(true);

      clock.advance(3); // after the backoff: retried, succeeds, the flag clears
      const recovered = await browser.session();
      expect(recovered?.error).toBeUndefined();
      expect(backend.stats.refreshSucceeded).toBe(1);
    });
  }

  it("transient failure after expiry still keeps the session (flagged), never throws", async () => {
    const { backend, browser, clock } = await signedIn();
    backend.injectFault("refresh", { status: 500, times: 5 });
    clock.advance(700);
    const response = await browser.request("/session");
    expect(response.status).toBe(200);
    const session = (await response.json()) as { error?: string; user?: { email?: string } };
    expect(session.error).toBe("RefreshUnavailable");
    expect(session.user?.email).toBe(ADMIN.email);
  });

  it("a timed-out refresh is transient", async () => {
    const { backend, browser, clock } = await signedIn({}, { timeoutMs: 200 });
    backend.injectFault("refresh", { delayMs: 1000 });
    clock.advance(590);
    expect((await browser.session())?.error).toBe("RefreshUnavailable");
  });

  it("definitive rejection (revoked family) ends the session cleanly, without retry storms", async () => {
    const { backend, browser, clock } = await signedIn({ tokenPlacement: "mixed" });
    backend.revokeAll();
    clock.advance(590);
    const session = await browser.session();
    expect(session?.error).toBe("RefreshTokenRejected");
    expect(session?.accessTokenExpiresAt).toBeUndefined();
    expect((await browser.token())?.backend?.cookies).toEqual([]);
    for (let i = 0; i < 3; i++) await browser.session();
    expect(backend.stats.refresh).toBe(1);
  });

  it("invalid_grant in a 400 ends the session", async () => {
    const { backend, browser, clock } = await signedIn();
    backend.injectFault("refresh", { status: 400, body: { error: "invalid_grant" } });
    clock.advance(590);
    expect((await browser.session())?.error).toBe("RefreshTokenRejected");
  });
});

describe("sign-out", () => {
  it("calls the backend logout endpoint with the refresh token and cookies, then clears the session", async () => {
    const { backend, browser } = await signedIn({ tokenPlacement: "mixed" });
    const response = await browser.signOut();
    expect(response.status).toBe(302);
    expect(backend.stats.logout).toBe(1);
    const logout = backend.requests.find((request) => request.endpoint === "logout");
    expect(logout?.cookies.backend_sid).toBeTruthy();
    expect(logout?.headers.authorization).toMatch(/^Bearer /);
    expect(browser.cookies.has(SESSION_COOKIE)).toBe(false);
    expect(await browser.session()).toBeNull();
  });

  it("a backend failure at logout still signs the user out", async () => {
    const { backend, browser, logger } = await signedIn();
    backend.injectFault("logout", { status: 500 });
    await browser.signOut();
    expect(browser.cookies.has(SESSION_COOKIE)).toBe(false);
    expect(logger.lines.join("\n")).toMatch(/logout: backend answered 500/);
  });
});
