/**
 * MemoryCoordinator, unit by unit: its option checks, single flight (one refresh per key while
 * one runs, cleared when it settles, also on failure), the sharing window (exact boundaries, on an
 * injected clock), eviction (at most `maxEntries`, oldest first, expired ones at the front) and
 * the scope that decides which coordinators share their state.
 */
import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import { MemoryCoordinator } from "../src/coordination/memory-coordinator.js";
import type { CoordinatedRefresh, RefreshOutcome } from "../src/model/coordinator.js";

const REJECTED: RefreshOutcome = { kind: "rejected", status: 401 };
const UNAVAILABLE: RefreshOutcome = { kind: "unavailable", retryAfterSeconds: 5 };

/** A clock the test moves by hand, in milliseconds since the epoch. */
function manualClock(start = 1_000_000) {
  let nowMs = start;
  return {
    now: () => nowMs,
    set(ms: number) {
      nowMs = ms;
    },
  };
}

/** A coordinator with a scope of its own (no state shared with any other test) and a clock. */
function isolatedCoordinator(options: { maxEntries?: number } = {}) {
  const clock = manualClock();
  const coordinator = new MemoryCoordinator({
    ...options,
    now: clock.now,
    scope: `unit-${randomUUID()}`,
  });
  return { coordinator, clock };
}

/** A refresh function that counts its calls and answers `outcome`, shared for `shareForMs`. */
function countingRefresh(outcome: RefreshOutcome, shareForMs: number) {
  const refresh = async (): Promise<CoordinatedRefresh> => {
    refresh.calls++;
    return { outcome, shareForMs };
  };
  refresh.calls = 0;
  return refresh;
}

/** A refresh that answers only when the test says so. */
function pendingRefresh() {
  let settle: { resolve(value: CoordinatedRefresh): void; reject(error: Error): void } | undefined;
  const answer = new Promise<CoordinatedRefresh>((resolve, reject) => {
    settle = { resolve, reject };
  });
  const refresh = (): Promise<CoordinatedRefresh> => {
    refresh.calls++;
    return answer;
  };
  refresh.calls = 0;
  return { refresh, settle: settle! };
}

/** Shares `outcome` under `key` for `shareForMs`, through a completed run. */
async function share(
  coordinator: MemoryCoordinator,
  key: string,
  shareForMs: number,
  outcome: RefreshOutcome = REJECTED,
) {
  return coordinator.run(key, countingRefresh(outcome, shareForMs));
}

/** Which of `keys` still have a shared outcome (peek does not start a refresh). */
async function heldKeys(coordinator: MemoryCoordinator, keys: string[]): Promise<string[]> {
  const held: string[] = [];
  for (const key of keys) if (await coordinator.peek(key)) held.push(key);
  return held;
}

describe("MemoryCoordinator", () => {
  describe("options", () => {
    it("refuses a maxEntries that is not an integer >= 1, naming the option", () => {
      for (const maxEntries of [0, -1, 1.5, Number.NaN]) {
        expect(() => new MemoryCoordinator({ maxEntries, scope: `unit-${randomUUID()}` })).toThrow(
          new TypeError("MemoryCoordinator: option maxEntries must be an integer >= 1"),
        );
      }
      expect(new MemoryCoordinator({ maxEntries: 1, scope: `unit-${randomUUID()}` }).size).toBe(0);
    });

    it("refuses an empty scope and a clock that is not a function, naming the option", () => {
      expect(() => new MemoryCoordinator({ scope: "" })).toThrow(
        new TypeError("MemoryCoordinator: option scope must be a non-empty string"),
      );
      expect(
        () =>
          new MemoryCoordinator({
            now: 5 as unknown as () => number,
            scope: `unit-${randomUUID()}`,
          }),
      ).toThrow(new TypeError("MemoryCoordinator: option now must be a function"));
    });

    it("without a clock, the sharing window runs on Date.now", async () => {
      const coordinator = new MemoryCoordinator({ scope: `unit-${randomUUID()}` });
      await share(coordinator, "k", 60_000);
      expect(await coordinator.peek("k")).toEqual(REJECTED);
    });
  });

  describe("scope", () => {
    it("coordinators without a scope share the default scope's state", async () => {
      const key = `default-scope-${randomUUID()}`;
      const first = new MemoryCoordinator();
      const second = new MemoryCoordinator({ scope: "default" });
      await share(first, key, 60_000, UNAVAILABLE);
      expect(await second.peek(key)).toEqual(UNAVAILABLE);
      // Leave the process-wide default scope as it was: expire the entry (peek drops it).
      const third = new MemoryCoordinator({ now: () => Date.now() + 120_000 });
      expect(await third.peek(key)).toBeUndefined();
      expect(await first.peek(key)).toBeUndefined();
    });

    it("coordinators of the same scope share outcomes and refreshes in flight; other scopes do not", async () => {
      const scope = `unit-${randomUUID()}`;
      const one = new MemoryCoordinator({ scope });
      const sameScope = new MemoryCoordinator({ scope });
      const otherScope = new MemoryCoordinator({ scope: `unit-${randomUUID()}` });
      await share(one, "k", 60_000);
      expect(await sameScope.peek("k")).toEqual(REJECTED);
      expect(sameScope.size).toBe(1);
      expect(await otherScope.peek("k")).toBeUndefined();
      expect(otherScope.size).toBe(0);

      const { refresh, settle } = pendingRefresh();
      const running = one.run("in-flight", refresh);
      expect(sameScope.inFlight).toBe(1);
      expect(otherScope.inFlight).toBe(0);
      const joined = sameScope.run("in-flight", countingRefresh(UNAVAILABLE, 0));
      settle.resolve({ outcome: REJECTED, shareForMs: 0 });
      expect(await Promise.all([running, joined])).toEqual([REJECTED, REJECTED]);
      expect(refresh.calls).toBe(1);
    });
  });

  describe("single flight", () => {
    it("callers with the same key while a refresh runs join it: one refresh, one outcome for all", async () => {
      const { coordinator } = isolatedCoordinator();
      const { refresh, settle } = pendingRefresh();
      const other = countingRefresh(UNAVAILABLE, 0);
      const first = coordinator.run("k", refresh);
      const second = coordinator.run("k", other);
      expect(second).toBe(first);
      expect(coordinator.inFlight).toBe(1);
      settle.resolve({ outcome: REJECTED, shareForMs: 0 });
      expect(await Promise.all([first, second])).toEqual([REJECTED, REJECTED]);
      expect(refresh.calls).toBe(1);
      expect(other.calls).toBe(0);
    });

    it("other keys run their own refresh at the same time", async () => {
      const { coordinator } = isolatedCoordinator();
      const a = pendingRefresh();
      const b = pendingRefresh();
      const first = coordinator.run("a", a.refresh);
      const second = coordinator.run("b", b.refresh);
      expect(coordinator.inFlight).toBe(2);
      b.settle.resolve({ outcome: UNAVAILABLE, shareForMs: 0 });
      a.settle.resolve({ outcome: REJECTED, shareForMs: 0 });
      expect(await Promise.all([first, second])).toEqual([REJECTED, UNAVAILABLE]);
      expect(coordinator.inFlight).toBe(0);
    });

    it("a settled refresh leaves the flight: the next caller refreshes again (nothing shared at 0 ms)", async () => {
      const { coordinator } = isolatedCoordinator();
      const refresh = countingRefresh(UNAVAILABLE, 0);
      expect(await coordinator.run("k", refresh)).toEqual(UNAVAILABLE);
      expect(coordinator.inFlight).toBe(0);
      expect(coordinator.size).toBe(0);
      expect(await coordinator.run("k", refresh)).toEqual(UNAVAILABLE);
      expect(refresh.calls).toBe(2);
    });

    it("a refresh that throws: every joined caller gets the error, the flight is cleared, nothing is shared", async () => {
      const { coordinator } = isolatedCoordinator();
      const { refresh, settle } = pendingRefresh();
      const first = coordinator.run("k", refresh);
      const second = coordinator.run("k", refresh);
      settle.reject(new Error("backend down"));
      await expect(first).rejects.toThrow("backend down");
      await expect(second).rejects.toThrow("backend down");
      expect(coordinator.inFlight).toBe(0);
      expect(coordinator.size).toBe(0);
      const again = countingRefresh(REJECTED, 1_000);
      expect(await coordinator.run("k", again)).toEqual(REJECTED);
      expect(again.calls).toBe(1);
    });
  });

  describe("sharing window", () => {
    it("an outcome is shared for exactly shareForMs: peek and run answer it without a refresh until then", async () => {
      const { coordinator, clock } = isolatedCoordinator();
      const start = clock.now();
      expect(await share(coordinator, "k", 1_000, UNAVAILABLE)).toEqual(UNAVAILABLE);
      expect(coordinator.size).toBe(1);
      clock.set(start + 999);
      expect(await coordinator.peek("k")).toEqual(UNAVAILABLE);
      const unused = countingRefresh(REJECTED, 1_000);
      expect(await coordinator.run("k", unused)).toEqual(UNAVAILABLE);
      expect(unused.calls).toBe(0);
      expect(coordinator.inFlight).toBe(0);
    });

    it("at the end of the window the outcome is dropped: peek answers nothing and frees the entry", async () => {
      const { coordinator, clock } = isolatedCoordinator();
      const start = clock.now();
      await share(coordinator, "k", 1_000);
      clock.set(start + 1_000);
      expect(await coordinator.peek("k")).toBeUndefined();
      expect(coordinator.size).toBe(0);
    });

    it("after the window, run refreshes again and shares the new outcome", async () => {
      const { coordinator, clock } = isolatedCoordinator();
      const start = clock.now();
      await share(coordinator, "k", 1_000, REJECTED);
      clock.set(start + 1_000);
      const next = countingRefresh(UNAVAILABLE, 500);
      expect(await coordinator.run("k", next)).toEqual(UNAVAILABLE);
      expect(next.calls).toBe(1);
      clock.set(start + 1_499);
      expect(await coordinator.peek("k")).toEqual(UNAVAILABLE);
      clock.set(start + 1_500);
      expect(await coordinator.peek("k")).toBeUndefined();
    });

    it("peek of a key never shared answers nothing and starts no refresh", async () => {
      const { coordinator } = isolatedCoordinator();
      expect(await coordinator.peek("never")).toBeUndefined();
      expect(coordinator.inFlight).toBe(0);
      expect(coordinator.size).toBe(0);
    });

    it("an outcome with shareForMs 0 or less is not held, even behind a live entry", async () => {
      const { coordinator } = isolatedCoordinator();
      await share(coordinator, "live", 1_000);
      await share(coordinator, "zero", 0);
      await share(coordinator, "negative", -1);
      expect(coordinator.size).toBe(1);
      expect(await heldKeys(coordinator, ["live", "zero", "negative"])).toEqual(["live"]);
    });
  });

  describe("eviction", () => {
    it("holds exactly maxEntries outcomes; one more evicts the oldest", async () => {
      const { coordinator } = isolatedCoordinator({ maxEntries: 2 });
      await share(coordinator, "a", 1_000);
      await share(coordinator, "b", 1_000);
      expect(coordinator.size).toBe(2);
      expect(await heldKeys(coordinator, ["a", "b"])).toEqual(["a", "b"]);
      await share(coordinator, "c", 1_000);
      expect(coordinator.size).toBe(2);
      expect(await heldKeys(coordinator, ["a", "b", "c"])).toEqual(["b", "c"]);
    });

    it("sharing drops the expired entries at the front, including one that ends exactly now", async () => {
      const { coordinator, clock } = isolatedCoordinator({ maxEntries: 10 });
      const start = clock.now();
      await share(coordinator, "ends-at-100", 100);
      await share(coordinator, "ends-at-200", 200);
      clock.set(start + 100);
      await share(coordinator, "new", 1_000);
      expect(coordinator.size).toBe(2);
      expect(await heldKeys(coordinator, ["ends-at-100", "ends-at-200", "new"])).toEqual([
        "ends-at-200",
        "new",
      ]);
    });

    it("the sweep stops at the first live entry: expired ones behind it stay until read", async () => {
      const { coordinator, clock } = isolatedCoordinator({ maxEntries: 10 });
      const start = clock.now();
      await share(coordinator, "long", 10_000);
      await share(coordinator, "short", 10);
      clock.set(start + 50);
      await share(coordinator, "new", 1_000);
      expect(coordinator.size).toBe(3);
      expect(await coordinator.peek("short")).toBeUndefined();
      expect(coordinator.size).toBe(2);
    });
  });
});
