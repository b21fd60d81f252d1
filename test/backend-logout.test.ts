import { describe, expect, it } from "vitest";
import type { BackendTokenState } from "../src/index.js";
import { ADMIN, signedInWithEvents } from "./helpers.js";

const refreshTokenOf = (state: BackendTokenState | undefined) =>
  state?.refreshToken ?? state?.cookies.find((cookie) => cookie.name === "refresh_token")?.value;

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
