import { describe, expect, it } from "vitest";
import { ADMIN, refreshTokenOf, signedInWithEvents, tokenFromResponse } from "./harness/index.js";

describe("late refresh answers (MemoryCoordinator)", () => {
  for (const gracePeriodSeconds of [30, 0]) {
    it(`a refresh answered after timeoutMs (backend rotated): a request while it is in flight joins it, a request after it gets the rotated tokens; 1 backend refresh, 0 reuse (gracePeriodSeconds ${gracePeriodSeconds})`, async () => {
      const harness = await signedInWithEvents(
        { accessTokenTtlSeconds: 600, tokenPlacement: "mixed" },
        { timeoutMs: 800, lateAnswerLimitMs: 10_000, gracePeriodSeconds },
      );
      const { browser, recorder, backend, clock } = harness;
      const before = (await browser.token())?.backend;
      const otherTab = browser.clone();
      // The backend rotates at once but answers 1.5 s later: past our 800 ms wait.
      backend.injectFault("refresh", { answerDelayMs: 1_500 });
      clock.advance(590);
      const landed = recorder.next("lateAnswerRecovered");

      const first = await browser.session();
      expect(first?.user?.email).toBe(ADMIN.email);
      expect(first?.error).toBe("RefreshUnavailable");
      expect(backend.stats.refreshSucceeded).toBe(1); // rotated at the backend already
      expect(refreshTokenOf((await browser.token())?.backend)).toBe(refreshTokenOf(before));

      // Another request with the same (old) cookie while the refresh is in flight: it joins it and
      // receives the late answer within its own wait.
      const joined = await otherTab.request("/session");
      const joinedState = (await tokenFromResponse(joined))?.backend;
      expect(((await joined.json()) as { error?: string }).error).toBeUndefined();
      expect(refreshTokenOf(joinedState)).toBeTruthy();
      expect(refreshTokenOf(joinedState)).not.toBe(refreshTokenOf(before));
      await landed;

      // The first tab still holds the retired token: it gets the rotation with no backend call.
      const after = await browser.request("/session");
      const afterState = (await tokenFromResponse(after))?.backend;
      expect(((await after.json()) as { error?: string }).error).toBeUndefined();
      expect(refreshTokenOf(afterState)).toBe(refreshTokenOf(joinedState));
      expect(afterState?.accessToken).toBe(joinedState?.accessToken);
      expect(backend.stats.refresh).toBe(1);
      expect(backend.stats.reuseDetected).toBe(0);

      // The rotated token is the live one: the next rotation is accepted.
      clock.advance(600);
      expect((await browser.session())?.error).toBeUndefined();
      expect(backend.stats.refreshSucceeded).toBe(2);
      expect(backend.stats.reuseDetected).toBe(0);

      // One backend refresh, one event: a success that came late (not a failure).
      expect(recorder.named("refreshFailed")).toEqual([]);
      expect(recorder.named("lateAnswerRecovered")).toEqual([
        { name: "lateAnswerRecovered", event: expect.objectContaining({ userId: "1" }) },
      ]);
      expect(recorder.named("refreshSucceeded").map(({ event }) => event.late)).toEqual([
        true,
        false,
      ]);
      expect(harness.coordinator.inFlight).toBe(0);
    });
  }

  it("a shared rotation that is already due when picked up is refreshed once more with its own token: no expired access token without an error", async () => {
    const harness = await signedInWithEvents(
      { accessTokenTtlSeconds: 20, tokenPlacement: "body" },
      { timeoutMs: 800, lateAnswerLimitMs: 10_000 },
    );
    const { browser, recorder, backend, clock } = harness;
    backend.injectFault("refresh", { answerDelayMs: 1_500 });
    clock.advance(15); // due (refresh at half the 20 s lifetime)
    const landed = recorder.next("lateAnswerRecovered");
    expect((await browser.session())?.error).toBe("RefreshUnavailable");
    await landed;

    clock.advance(12); // the late rotation is 12 s old: inside the grace window, but due itself
    const response = await browser.request("/session");
    const session = (await response.json()) as { error?: string; accessTokenExpiresAt?: number };
    expect(session.error).toBeUndefined();
    expect(session.accessTokenExpiresAt).toBeGreaterThan(clock.now() / 1000 + 10);
    expect(backend.stats.refresh).toBe(2);
    expect(backend.stats.refreshSucceeded).toBe(2);
    expect(backend.stats.reuseDetected).toBe(0);
  });

  it("a refresh that answers only after lateAnswerLimitMs is abandoned: transient, the session is kept", async () => {
    const harness = await signedInWithEvents(
      { accessTokenTtlSeconds: 600, tokenPlacement: "body" },
      { timeoutMs: 200, lateAnswerLimitMs: 300 },
    );
    const { browser, recorder } = harness;
    harness.backend.injectFault("refresh", { delayMs: 2_000 });
    harness.clock.advance(590);
    const failed = recorder.next("refreshFailed");
    expect((await browser.session())?.error).toBe("RefreshUnavailable"); // after 200 ms
    await failed; // the backend call's hard limit (200 + 300 ms)
    expect(recorder.named("refreshFailed").map(({ event }) => event.reason)).toEqual(["Timeout"]);
    await expect.poll(() => harness.coordinator.inFlight).toBe(0);
    expect(harness.logger.lines.join("\n")).toMatch(/timed out after 500 ms/);
  });
});
