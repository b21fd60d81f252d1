import { describe, expect, it } from "vitest";
import { BackendCredentials } from "../src/index.js";
import { ADMIN, signedIn, signedInWithEvents } from "./harness/index.js";

describe("events for operators", () => {
  it("refreshSucceeded and refreshFailed: once per backend refresh, with duration, reason and status, never a token", async () => {
    const harness = await signedInWithEvents({
      tokenPlacement: "body",
      accessTokenTtlSeconds: 600,
    });
    const { browser, recorder } = harness;
    const token = (await browser.token())?.backend;
    harness.backend.injectFault("refresh", { status: 503 });
    harness.clock.advance(590);
    await Promise.all(Array.from({ length: 10 }, () => browser.clone().session()));
    harness.clock.advance(3); // past the backoff
    await Promise.all(Array.from({ length: 10 }, () => browser.clone().session()));
    expect(recorder.seen.map(({ name }) => name)).toEqual(["refreshFailed", "refreshSucceeded"]);
    expect(recorder.named("refreshFailed")[0]?.event).toEqual({
      provider: "backend",
      userId: "1",
      transient: true,
      reason: "BackendUnavailable",
      status: 503,
      durationMs: expect.any(Number),
    });
    expect(recorder.named("refreshSucceeded")[0]?.event).toEqual({
      provider: "backend",
      userId: "1",
      durationMs: expect.any(Number),
      late: false,
    });
    const serialised = JSON.stringify(recorder.seen);
    for (const secret of [token?.accessToken, token?.refreshToken]) {
      expect(secret && serialised.includes(secret)).toBe(false);
    }
  });

  it("sessionEnded: once when the backend rejects the refresh token (10 concurrent requests), and when the refresh token's expiry ends it", async () => {
    const harness = await signedInWithEvents({
      tokenPlacement: "body",
      accessTokenTtlSeconds: 600,
    });
    const { browser, recorder } = harness;
    harness.backend.revokeAll();
    harness.clock.advance(590);
    const sessions = await Promise.all(Array.from({ length: 10 }, () => browser.clone().session()));
    expect(sessions.map((session) => session?.error)).toEqual(
      Array(10).fill("RefreshTokenRejected"),
    );
    expect(recorder.named("refreshFailed").map(({ event }) => event)).toEqual([
      expect.objectContaining({ transient: false, reason: "RefreshTokenRejected", status: 401 }),
    ]);
    expect(recorder.named("sessionEnded").map(({ event }) => event)).toEqual([
      { provider: "backend", userId: "1", reason: "RefreshTokenRejected" },
    ]);

    const other = harness.client();
    await other.signIn(ADMIN);
    harness.clock.advance(90_000); // past the refresh token's lifetime (one day)
    expect((await other.session())?.error).toBe("RefreshTokenExpired");
    expect(recorder.named("sessionEnded").at(-1)?.event).toEqual({
      provider: "backend",
      userId: "1",
      reason: "RefreshTokenExpired",
    });
  });

  it("a handler that throws or rejects never breaks a request; it is logged without its message", async () => {
    const harness = await signedIn(
      { tokenPlacement: "body" },
      {
        events: {
          refreshSucceeded() {
            throw new Error("handler exploded with secret detail");
          },
          refreshFailed: () => Promise.reject(new Error("async handler exploded")),
        },
      },
    );
    const { browser } = harness;
    harness.backend.injectFault("refresh", { status: 503 });
    harness.clock.advance(590);
    expect((await browser.session())?.error).toBe("RefreshUnavailable");
    harness.clock.advance(3);
    const session = await browser.session();
    expect(session?.error).toBeUndefined();
    expect(session?.user?.email).toBe(ADMIN.email);
    await expect
      .poll(() => harness.logger.lines.filter((line) => line.includes("events.")))
      .toEqual([
        "error events.refreshFailed threw Error (message not logged)",
        "error events.refreshSucceeded threw Error (message not logged)",
      ]);
    expect(harness.logger.lines.join("\n")).not.toMatch(/exploded/);
  });

  it("rejects an unknown event name or a handler that is not a function with a TypeError naming it", () => {
    const baseUrl = "http://127.0.0.1:1";
    expect(() =>
      BackendCredentials({ baseUrl, events: { refreshSucceded: () => {} } as never }),
    ).toThrow(TypeError);
    expect(() =>
      BackendCredentials({ baseUrl, events: { refreshSucceded: () => {} } as never }),
    ).toThrow(/^BackendCredentials: option events.refreshSucceded is not an event/);
    expect(() => BackendCredentials({ baseUrl, events: { sessionEnded: "log" as never } })).toThrow(
      "BackendCredentials: option events.sessionEnded must be a function",
    );
    expect(() => BackendCredentials({ baseUrl, lateAnswerLimitMs: -1 })).toThrow(
      "BackendCredentials: option lateAnswerLimitMs must be a finite number >= 0",
    );
  });
});
