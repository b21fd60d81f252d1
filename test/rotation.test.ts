import { describe, expect, it } from "vitest";
import type { Backend } from "../example-app/backend/server.mjs";
import { refreshTokenOf, signedIn, tokenFromResponse } from "./harness/index.js";

/** The refresh token each refresh request presented, in order (body field or cookie). */
function presentedRefreshTokens(backend: Backend): unknown[] {
  return backend.requests
    .filter((request) => request.endpoint === "refresh")
    .map(
      (request) =>
        (request.body as { refreshToken?: unknown } | undefined)?.refreshToken ??
        request.cookies.refresh_token,
    );
}

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

  for (const tokenPlacement of ["body", "cookie", "mixed"] as const) {
    it(`${tokenPlacement}: after a rotation the next refresh sends the new refresh token, never the old one`, async () => {
      const { backend, browser, clock, before } = await signedIn({ tokenPlacement });
      clock.advance(590);
      await browser.session();
      const afterFirst = (await browser.token())?.backend;
      clock.advance(600);
      expect((await browser.session())?.error).toBeUndefined();

      const presented = presentedRefreshTokens(backend);
      expect(presented).toEqual([refreshTokenOf(before), refreshTokenOf(afterFirst)]);
      expect(refreshTokenOf(afterFirst)).not.toBe(refreshTokenOf(before));
      expect(backend.stats.refreshSucceeded).toBe(2);
      expect(backend.stats.reuseDetected).toBe(0);
    });
  }
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
  it("what a copied cookie buys: replayed within gracePeriodSeconds of its rotation it gets the new tokens; replayed later the backend detects the reuse", async () => {
    const grace = 10;
    const { backend, browser, clock } = await signedIn(
      { tokenPlacement: "body" },
      { gracePeriodSeconds: grace },
    );
    const copied = browser.clone(); // a thief's copy of the cookie
    clock.advance(700);
    await browser.session(); // the victim rotates
    expect(backend.stats.refresh).toBe(1);

    clock.advance(grace - 1);
    const inside = copied.clone();
    await inside.session();
    expect(backend.stats.refresh).toBe(1); // served from the grace cache: no reuse seen
    expect((await inside.token())?.backend?.refreshToken).toBe(
      (await browser.token())?.backend?.refreshToken,
    );

    clock.advance(2); // now past the window counted from the rotation
    expect((await copied.session())?.error).toBe("RefreshTokenRejected");
    expect(backend.stats.reuseDetected).toBe(1);
  });

  it("a late request with the old refresh token inside the grace window gets the rotated tokens without a backend call", async () => {
    const { backend, browser, clock } = await signedIn(
      { tokenPlacement: "body" },
      { gracePeriodSeconds: 30 },
    );
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
      { fetch: expiresWithAccess, gracePeriodSeconds: 30 },
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
    const { backend, browser, clock } = await signedIn(
      { tokenPlacement: "body" },
      { gracePeriodSeconds: 30 },
    );
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

  it("chain: a late request with the oldest refresh token after two rotations inside the grace window gets the newest tokens", async () => {
    // 20 s access tokens are due 10 s after issue, so two rotations fit in the 30 s grace window.
    const { backend, browser, clock, before } = await signedIn(
      { tokenPlacement: "body", accessTokenTtlSeconds: 20 },
      { gracePeriodSeconds: 30 },
    );
    const oldest = browser.clone();
    clock.advance(15);
    await browser.session();
    const first = (await browser.token())?.backend;
    clock.advance(15);
    await browser.session();
    const newest = (await browser.token())?.backend;
    expect(backend.stats.refreshSucceeded).toBe(2);
    expect(new Set([before?.refreshToken, first?.refreshToken, newest?.refreshToken]).size).toBe(3);

    clock.advance(8); // 23 s after the first rotation: its grace entry is still there
    const late = await oldest.request("/session");
    const lateState = (await tokenFromResponse(late))?.backend;
    expect(backend.stats.refresh).toBe(2);
    expect(lateState?.refreshToken).toBe(newest?.refreshToken);
    expect(lateState?.accessToken).toBe(newest?.accessToken);
    expect(lateState?.receivedAt).toBe(newest?.receivedAt);
    expect(((await late.json()) as { error?: string }).error).toBeUndefined();

    // Both copies carry the newest token: the next rotation is a normal one, no reuse.
    clock.advance(10);
    expect((await oldest.session())?.error).toBeUndefined();
    expect((await browser.session())?.error).toBeUndefined();
    expect(backend.stats.refreshSucceeded).toBe(3);
    expect(backend.stats.reuseDetected).toBe(0);
  });
});

describe("expiry and clock skew", () => {
  for (const expiryStyle of ["expires_at", "expires_at_ms", "expires_in"] as const) {
    it(`${expiryStyle}: a backend clock 2 minutes ahead or behind causes no refresh loop, before or after a rotation`, async () => {
      for (const skew of [120, -120]) {
        const { backend, browser, clock } = await signedIn({
          expiryStyle,
          clockSkewSeconds: skew,
          accessTokenTtlSeconds: 100,
        });
        for (let i = 0; i < 5; i++) await browser.session();
        expect(backend.stats.refresh).toBe(0);
        const session = await browser.session();
        const remaining = (session?.accessTokenExpiresAt ?? 0) - clock.now() / 1000;
        expect(remaining).toBeGreaterThan(95);
        expect(remaining).toBeLessThanOrEqual(102);

        clock.advance(60); // due (50 s buffer: half the lifetime)
        for (let i = 0; i < 5; i++) expect((await browser.session())?.error).toBeUndefined();
        expect(backend.stats.refresh).toBe(1);
        const after = await browser.session();
        expect((after?.accessTokenExpiresAt ?? 0) - clock.now() / 1000).toBeGreaterThan(95);
        await backend.close();
      }
    });
  }
});
