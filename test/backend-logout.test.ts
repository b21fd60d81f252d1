import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import { BackendCredentials, type BackendCredentialsOptions } from "../src/index.js";
import {
  ADMIN,
  recordingLogger,
  refreshTokenOf,
  SESSION_COOKIE,
  setCookiesNamed,
  signedIn,
  signedInWithEvents,
} from "./harness/index.js";
import { nextApp, nextRequest } from "./harness/next-app.js";

/** Presents a refresh token to the backend by hand, as a thief with a copied cookie would. */
async function refreshByHand(backendUrl: string, refreshToken: string | undefined) {
  const response = await fetch(`${backendUrl}/auth/refresh`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ refreshToken }),
  });
  return { status: response.status, body: (await response.json()) as { error?: string } };
}

describe("sign-out ends the backend session (logout that accepts only a valid access token)", () => {
  for (const tokenPlacement of ["body", "mixed"] as const) {
    it(`${tokenPlacement}: after access-token expiry, sign-out refreshes first, then logs out; the old refresh token is rejected afterwards`, async () => {
      const harness = await signedInWithEvents({
        tokenPlacement,
        accessTokenTtlSeconds: 600,
        logoutRequiresAccessToken: true,
      });
      const { browser, recorder, backend, clock } = harness;
      const before = refreshTokenOf((await browser.token())?.backend);
      clock.advance(700); // the access token has expired

      const response = await browser.signOut();
      expect(response.status).toBe(302);
      expect(await browser.session()).toBeNull();
      expect(backend.stats.refreshSucceeded).toBe(1);
      expect(backend.stats.logout).toBe(1);
      const logout = backend.requests.find((request) => request.endpoint === "logout");
      expect(logout?.headers.authorization).toMatch(/^Bearer /);
      expect(recorder.named("logoutFailed")).toEqual([]);

      // The token the sign-out rotated to (sent along to the logout endpoint) is refused because
      // the backend session is gone, not because it was reused.
      const rotatedTo =
        (logout?.body as { refreshToken?: string } | undefined)?.refreshToken ??
        logout?.cookies.refresh_token;
      expect(rotatedTo).toBeTruthy();
      expect(rotatedTo).not.toBe(before);
      expect(await refreshByHand(backend.url, rotatedTo)).toMatchObject({
        status: 401,
        body: { error: "invalid_grant" },
      });
      expect(backend.stats.reuseDetected).toBe(0);
      // And the token a copied cookie holds cannot bring the session back.
      expect((await refreshByHand(backend.url, before)).status).toBe(401);
    });
  }

  it("a logout answering 401 while a refresh is possible: one refresh, one retry, then the backend session is gone", async () => {
    const harness = await signedInWithEvents({
      tokenPlacement: "body",
      accessTokenTtlSeconds: 600,
      logoutRequiresAccessToken: true,
    });
    const { browser, recorder, backend } = harness;
    const before = refreshTokenOf((await browser.token())?.backend);
    // The access token is not due, but the backend refuses it (revoked access tokens, a key
    // rotation, ...): the first logout answers 401.
    backend.injectFault("logout", { status: 401, body: { error: "invalid_token" } });
    await browser.signOut();
    expect(backend.stats.logout).toBe(2);
    expect(backend.stats.refreshSucceeded).toBe(1);
    expect(recorder.named("logoutFailed")).toEqual([]);
    expect((await refreshByHand(backend.url, before)).status).toBe(401);
  });

  it("a logout that still fails is reported through events.logoutFailed (no token in the event)", async () => {
    const harness = await signedInWithEvents({
      tokenPlacement: "body",
      accessTokenTtlSeconds: 600,
    });
    const { browser, recorder } = harness;
    harness.backend.injectFault("logout", { status: 500 });
    await browser.signOut();
    expect(await browser.session()).toBeNull();
    expect(recorder.named("logoutFailed")).toEqual([
      {
        name: "logoutFailed",
        event: { provider: "backend", userId: "1", reason: "ErrorStatus", status: 500 },
      },
    ]);
    harness.backend.injectFault("logout", { drop: true });
    const again = harness.client();
    await again.signIn(ADMIN);
    await again.signOut();
    expect(recorder.named("logoutFailed")[1]?.event).toEqual({
      provider: "backend",
      userId: "1",
      reason: "NetworkError",
    });
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

  it("a backend logout failure (dropped, 500) still clears our side: Auth.js sign-out and the expired route", async () => {
    const harness = await signedIn();
    const { browser } = harness;
    harness.backend.injectFault("logout", { drop: true });
    const response = await browser.signOut();
    expect(response.status).toBe(302);
    expect(harness.backend.stats.logout).toBe(1);
    expect(browser.cookies.has(SESSION_COOKIE)).toBe(false);
    expect(await browser.session()).toBeNull();
    expect(harness.logger.lines).toContain("warn logout: POST /auth/logout failed (network error)");

    const app = await nextApp({}, {}, { mirrorBackendCookies: true });
    app.backend.injectFault("logout", { status: 500 });
    // The browser holds the mirrored backend cookie (as after a refresh through our routes).
    app.browser.cookies.set("theme", "dark");
    const expired = await app.next.expiredRoute.GET(
      nextRequest("/api/auth/expired", app.browser.cookieHeader()),
    );
    expect(expired.status).toBe(303);
    expect(app.backend.stats.logout).toBe(1);
    expect(app.logger.lines).toContain(
      "warn logout: backend answered 500; the backend session may stay alive",
    );
    for (const name of [SESSION_COOKIE, "theme"]) {
      expect(setCookiesNamed(expired, name)).toEqual([expect.stringMatching(/Max-Age=0/)]);
    }
  });
});

describe("sign-out that revokes nothing is announced", () => {
  const provider = (endpoints: BackendCredentialsOptions["endpoints"], id: string) => {
    const logger = recordingLogger();
    BackendCredentials({ id, baseUrl: "http://127.0.0.1:9", endpoints, logger });
    return logger.lines;
  };

  it("refresh enabled and no logout endpoint: one warning at start-up, however many copies of the provider", async () => {
    const id = `p-${randomUUID()}`;
    const first = provider({}, id);
    const second = provider({}, id); // another bundle's copy of auth.ts
    expect(first).toEqual([
      "warn endpoints.logout is not set: sign-out deletes our cookies but does not end the backend session, so a copied session cookie keeps refreshing until its refresh token expires. Set endpoints.logout (or endpoints.logout: false when the backend has none).",
    ]);
    expect(second).toEqual([]);
  });

  it("no warning with a logout endpoint, with logout: false, or without refresh", () => {
    expect(provider({ logout: "/auth/logout" }, `p-${randomUUID()}`)).toEqual([]);
    expect(provider({ logout: false }, `p-${randomUUID()}`)).toEqual([]);
    expect(provider({ refresh: false }, `p-${randomUUID()}`)).toEqual([]);
  });
});
