/**
 * Refresh when the backend fails (transient), refuses the refresh token (definitive) or loses its
 * answer after rotating: who stays signed in, what is retried when, and what the grace cache shares.
 */
import { describe, expect, it } from "vitest";
import {
  type CoordinatedRefresh,
  MemoryCoordinator,
  type RefreshCoordinator,
  type RefreshOutcome,
} from "../src/index.js";
import { ADMIN, SESSION_COOKIE, signedIn, tokenFromResponse } from "./harness/index.js";

/** A coordinator that records every outcome a refresh hands it for sharing. */
class RecordingCoordinator implements RefreshCoordinator {
  readonly handed: CoordinatedRefresh[] = [];
  constructor(private readonly inner: RefreshCoordinator) {}
  run(key: string, refresh: () => Promise<CoordinatedRefresh>): Promise<RefreshOutcome> {
    return this.inner.run(key, async () => {
      const result = await refresh();
      this.handed.push(result);
      return result;
    });
  }
  peek(key: string): Promise<RefreshOutcome | undefined> {
    return this.inner.peek(key);
  }
}

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

describe("refresh: rejection and backoff", () => {
  it("refresh answered 403: the session ends and is never refreshed again", async () => {
    const { backend, browser, clock } = await signedIn();
    backend.injectFault("refresh", { status: 403, body: { error: "forbidden" } });
    clock.advance(590);
    const session = await browser.session();
    expect(session?.error).toBe("RefreshTokenRejected");
    expect(session?.accessTokenExpiresAt).toBeUndefined();
    expect((await browser.token())?.backend?.cookies).toEqual([]);
    clock.advance(600);
    for (let i = 0; i < 3; i++) await browser.session();
    expect(backend.stats.refresh).toBe(1);
  });

  it("429 with Retry-After: no backend call before it has passed, a retry after it", async () => {
    const { backend, browser, clock } = await signedIn();
    backend.injectFault("refresh", { status: 429, headers: { "Retry-After": "8" } });
    clock.advance(580); // due, still valid for 20 s
    expect((await browser.session())?.error).toBe("RefreshUnavailable");
    expect(backend.stats.refresh).toBe(1);

    clock.advance(5); // inside Retry-After (the default backoff of 2 s would have passed)
    const waiting = await browser.session();
    expect(waiting?.error).toBe("RefreshUnavailable");
    expect(waiting?.user?.email).toBe(ADMIN.email);
    expect(backend.stats.refresh).toBe(1);

    clock.advance(4); // past Retry-After
    expect((await browser.session())?.error).toBeUndefined();
    expect(backend.stats.refresh).toBe(2);
    expect(backend.stats.refreshSucceeded).toBe(1);
  });
});

describe("refresh: a response lost after the backend rotated", () => {
  it("lost after rotation: transient first, then the retry meets reuse detection and the session ends", async () => {
    const { backend, browser, clock, before } = await signedIn({ tokenPlacement: "body" });
    backend.injectFault("refresh", { afterRotation: true });
    clock.advance(590);
    const first = await browser.session();
    expect(first?.error).toBe("RefreshUnavailable");
    expect(first?.user?.email).toBe(ADMIN.email);
    expect(backend.stats.refreshSucceeded).toBe(1); // the backend did rotate
    // We still hold the token the backend has just retired: there is nothing else to hold.
    expect((await browser.token())?.backend?.refreshToken).toBe(before?.refreshToken);

    clock.advance(3); // past the transient backoff
    const second = await browser.session();
    expect(backend.stats.reuseDetected).toBe(1);
    expect(second?.error).toBe("RefreshTokenRejected");
    expect(second?.accessTokenExpiresAt).toBeUndefined();
    const state = (await browser.token())?.backend;
    expect(state?.refreshToken).toBeUndefined();
    expect(state?.accessToken).toBeUndefined();
    expect(state?.cookies).toEqual([]);
  });

  for (const [label, fault] of [
    ["lost after rotation", { afterRotation: true }],
    ["unreadable 2xx", { status: 200, body: { user: { id: "1" } } }],
  ] as const) {
    it(`the grace cache never holds a half result (${label}): concurrent and late requests keep their tokens`, async () => {
      const coordination = new RecordingCoordinator(new MemoryCoordinator());
      const { backend, browser, clock, before } = await signedIn(
        { tokenPlacement: "body" },
        { coordination },
      );
      backend.injectFault("refresh", { ...fault, delayMs: 100 });
      clock.advance(590);
      const responses = await Promise.all(
        Array.from({ length: 10 }, () => browser.clone().request("/session")),
      );
      const late = await browser.clone().request("/session"); // after the failure, inside the backoff
      expect(backend.stats.refresh).toBe(1);
      for (const response of [...responses, late]) {
        expect(response.status).toBe(200);
        const session = (await response.clone().json()) as { error?: string } | null;
        expect(session?.error).toBe("RefreshUnavailable");
        const state = (await tokenFromResponse(response))?.backend;
        expect(state?.accessToken).toBe(before?.accessToken);
        expect(state?.refreshToken).toBe(before?.refreshToken);
        expect(state?.accessTokenExpiresAt).toBe(before?.accessTokenExpiresAt);
      }
      // What was handed to the cache: one transient outcome, shared only for the backoff.
      expect(coordination.handed).toEqual([
        { outcome: { kind: "unavailable", retryAfterSeconds: 2 }, shareForMs: 2_000 },
      ]);
    });
  }
});
