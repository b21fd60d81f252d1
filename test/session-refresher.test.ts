/**
 * The `<SessionRefresher/>` schedule (src/next/client/schedule.ts): when the browser asks for a
 * refresh, against the real session route during a backend outage and in isolation.
 */
import { describe, expect, it } from "vitest";
import { refreshDelayMs, type Stall, stalledAttempts } from "../src/next/client/schedule.js";
import { nextApp } from "./harness/next-app.js";

describe("<SessionRefresher/> schedule", () => {
  it("backs off while the backend is unavailable (2, 4, 8 … 60 s) and resets when the expiry moves", async () => {
    const { browser, backend, clock } = await nextApp();
    // useSession().update() is GET {basePath}/session in a context that can write cookies.
    const update = () => browser.session();
    let session = await update();
    let stall: Stall = { count: 0 };
    const schedule = () => {
      const expiresAt = session?.accessTokenExpiresAt as number;
      const stalled = stalledAttempts(stall, expiresAt);
      return {
        expiresAt,
        stalled,
        delay: refreshDelayMs(expiresAt, clock.now() / 1000, 30, stalled),
      };
    };
    const initialExpiry = session?.accessTokenExpiresAt as number;
    // First attempt: 30 s before expiry.
    expect(schedule().delay / 1000).toBeCloseTo(initialExpiry - 30 - clock.now() / 1000, 0);

    backend.injectFault("refresh", { status: 503, times: 1_000 });
    clock.advance(610); // the tab was hidden past expiry; the backend is down
    const delays: number[] = [];
    for (let attempt = 0; attempt < 9; attempt++) {
      const { expiresAt, stalled, delay } = schedule();
      delays.push(delay);
      clock.advance(delay / 1000);
      session = await update();
      expect(session?.error).toBe("RefreshUnavailable");
      expect(session?.accessTokenExpiresAt).toBe(initialExpiry);
      stall = { expiresAt, count: stalled + 1 };
    }
    expect(delays).toEqual([1_000, 2_000, 4_000, 8_000, 16_000, 32_000, 60_000, 60_000, 60_000]);

    backend.clearFaults();
    const { expiresAt, stalled } = schedule();
    clock.advance(60);
    session = await update();
    stall = { expiresAt, count: stalled + 1 };
    expect(session?.error).toBeUndefined();
    expect(session?.accessTokenExpiresAt as number).toBeGreaterThan(initialExpiry);
    // The new expiry resets the backoff: the next attempt is 30 s before it again.
    const next = schedule();
    expect(next.stalled).toBe(0);
    expect(next.delay / 1000).toBeCloseTo(next.expiresAt - 30 - clock.now() / 1000, 0);
  });

  it("never waits past a still-valid token's expiry, and never less than a second", () => {
    const now = 1_700_000_000;
    // The server's buffer is shorter than ours: attempts that did not refresh yet back off, but
    // the expiry itself is still tried.
    expect(refreshDelayMs(now + 3, now, 30, 5)).toBe(3_000);
    expect(refreshDelayMs(now + 20, now, 30, 3)).toBe(10_000);
    expect(refreshDelayMs(now + 0.2, now, 30, 0)).toBe(1_000);
    expect(refreshDelayMs(now - 10, now, 30, 0)).toBe(1_000);
    expect(refreshDelayMs(now - 10, now, 30, 20)).toBe(60_000);
  });
});
