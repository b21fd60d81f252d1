import { randomUUID } from "node:crypto";
/**
 * App instances in child processes sharing one real redis-server: one refresh across instances,
 * a lock holder that dies, Redis stopping mid-run. Apart from redis.test.ts because their subject
 * runs in other processes (so `npm run mutate` leaves this file out: a mutant is only active in
 * the test's own process).
 */
import type { Redis } from "ioredis";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import {
  ADMIN,
  type Instance,
  redisForFile,
  signedIn,
  spawnInstance,
  startRedisServer,
  stopInstances,
  tokenFromResponse,
} from "./harness/index.js";

const redis = redisForFile();
/**
 * This run's own tag in keys and scopes: coordinator scopes are process-wide and Redis keys
 * outlive a run, so names must not repeat when the file runs again in the same process (as
 * `npm run mutate` does) or against the same server.
 */
const RUN = randomUUID().slice(0, 8);
let raw: Redis;
let prefixCounter = 0;
/** A fresh key prefix per test, so tests never see each other's entries. */
const freshPrefix = () => `instances${++prefixCounter}-${RUN}:`;

beforeAll(() => {
  raw = redis.connect();
});

/** Past the access token's lifetime (600 s): the next session read must refresh. */
const EXPIRY_JUMP_SECONDS = 700;

afterEach(() => stopInstances());

/** A backend, a signed-in browser (in this process) and the env the instances need. */
async function signedInAcrossInstances(redisPort: number, prefix: string) {
  const harness = await signedIn({ tokenPlacement: "body" });
  const env = {
    BACKEND_URL: harness.backend.url,
    REDIS_PORT: String(redisPort),
    REDIS_PREFIX: prefix,
  };
  const { clock } = harness;
  /** Moves the clock shared by the backend, this process and the instances. */
  const advance = async (seconds: number, instances: Instance[]) => {
    await Promise.all(instances.map((instance) => instance.advance(seconds)));
    clock.advance(seconds);
  };
  return { ...harness, env, advance };
}

/** Decrypted session token of each response, and its session JSON. */
async function readResponses(responses: Response[]) {
  return Promise.all(
    responses.map(async (response) => ({
      status: response.status,
      token: (await tokenFromResponse(response))?.backend,
      session: (await response.json()) as { error?: string; user?: { email?: string } } | null,
    })),
  );
}

describe("across app instances (child processes) sharing one Redis", () => {
  it("4 instances x 25 concurrent session reads with an expired access token: 1 backend refresh, all 100 get its tokens", async () => {
    const prefix = freshPrefix();
    const { backend, browser, advance, env, before } = await signedInAcrossInstances(
      redis.port,
      prefix,
    );
    const instances = await Promise.all(Array.from({ length: 4 }, () => spawnInstance(env)));
    await advance(EXPIRY_JUMP_SECONDS, instances);
    const cookie = browser.cookieHeader();
    // A backend that takes its time, so that every instance arrives while the refresh runs.
    backend.injectFault("refresh", { delayMs: 250 });

    const responses = await Promise.all(
      instances.flatMap((instance) => Array.from({ length: 25 }, () => instance.session(cookie))),
    );

    expect(backend.stats.refresh).toBe(1);
    expect(backend.stats.refreshSucceeded).toBe(1);
    expect(backend.stats.reuseDetected).toBe(0);
    const results = await readResponses(responses);
    expect(results).toHaveLength(100);
    for (const { status, token, session } of results) {
      expect(status).toBe(200);
      expect(session?.error).toBeUndefined();
      expect(session?.user?.email).toBe(ADMIN.email);
      expect(token?.accessToken).toBeTruthy();
      expect(token?.refreshToken).toBeTruthy();
    }
    expect(new Set(results.map(({ token }) => token?.accessToken)).size).toBe(1);
    expect(new Set(results.map(({ token }) => token?.refreshToken)).size).toBe(1);
    expect(results[0]?.token?.refreshToken).not.toBe(before?.refreshToken);
    expect(results[0]?.token?.accessToken).not.toBe(before?.accessToken);
    expect(await raw.keys(`${prefix}lock:*`)).toEqual([]);
    expect(instances.flatMap((instance) => instance.lines)).toEqual([]);
  });

  it("the lock holder dies mid-refresh: another instance refreshes once the lock TTL has passed; nobody is signed out", async () => {
    const prefix = freshPrefix();
    const { backend, browser, advance, env, before } = await signedInAcrossInstances(
      redis.port,
      prefix,
    );
    const limits = { LOCK_TTL_MS: "1500", REFRESH_TIMEOUT_MS: "1000", LATE_ANSWER_LIMIT_MS: "0" };
    const [holder, survivor] = await Promise.all([
      spawnInstance({ ...env, ...limits, HANG_REFRESH: "1" }),
      spawnInstance({ ...env, ...limits }),
    ]);
    if (!holder || !survivor) throw new Error("instances did not start");
    await advance(EXPIRY_JUMP_SECONDS, [holder, survivor]);
    const cookie = browser.cookieHeader();

    const hanging = holder.next("refresh-hanging");
    const lost = holder.session(cookie).then(
      () => "answered",
      () => "connection lost",
    );
    await hanging;
    const [lockKey, ...otherLocks] = await raw.keys(`${prefix}lock:*`);
    expect(lockKey).toBeDefined();
    expect(otherLocks).toEqual([]);
    await holder.kill();
    expect(await lost).toBe("connection lost");

    const remainingMs = await raw.pttl(lockKey ?? "");
    expect(remainingMs).toBeGreaterThan(0);
    const started = Date.now();
    // The request waits at most REFRESH_TIMEOUT_MS: it stays signed in (RefreshUnavailable while
    // the dead holder's lock lives); the survivor keeps polling and takes over once the lock
    // expires. Requests that follow get its rotation.
    const [first] = await readResponses([await survivor.session(cookie)]);
    expect(first?.status).toBe(200);
    expect(first?.session?.user?.email).toBe(ADMIN.email);
    let result = first;
    while (result?.session?.error === "RefreshUnavailable" && Date.now() - started < 5_000) {
      [result] = await readResponses([await survivor.session(cookie)]);
    }
    const elapsed = Date.now() - started;

    // It waited for the lock to expire (never refreshed beside a live lock), then took over.
    expect(elapsed).toBeGreaterThanOrEqual(remainingMs - 50);
    expect(result?.status).toBe(200);
    expect(result?.session?.error).toBeUndefined();
    expect(result?.session?.user?.email).toBe(ADMIN.email);
    expect(result?.token?.refreshToken).toBeTruthy();
    expect(result?.token?.refreshToken).not.toBe(before?.refreshToken);
    expect(backend.stats.refresh).toBe(1);
    expect(backend.stats.refreshSucceeded).toBe(1);
    expect(backend.stats.reuseDetected).toBe(0);
  });

  it("Redis stops during the run: requests keep succeeding with in-process coordination, and a warning is logged", async () => {
    const prefix = freshPrefix();
    const ownRedis = await startRedisServer();
    try {
      const { backend, browser, advance, env } = await signedInAcrossInstances(
        ownRedis.port,
        prefix,
      );
      const [a, b] = await Promise.all([spawnInstance(env), spawnInstance(env)]);
      if (!a || !b) throw new Error("instances did not start");
      const seen: string[] = [];
      /** Expires the access token, then reads the session `concurrency` times through `instance`. */
      const step = async (instance: Instance, concurrency: number) => {
        await advance(EXPIRY_JUMP_SECONDS, [a, b]);
        const cookie = browser.cookieHeader();
        const responses = await Promise.all(
          Array.from({ length: concurrency }, () => instance.session(cookie)),
        );
        browser.store(responses[0]!);
        const results = await readResponses(responses);
        for (const { status, session, token } of results) {
          expect(status).toBe(200);
          expect(session?.error).toBeUndefined();
          expect(session?.user?.email).toBe(ADMIN.email);
          expect(token?.refreshToken).toBe(results[0]?.token?.refreshToken);
        }
        seen.push(results[0]?.token?.accessToken ?? "", results[0]?.token?.refreshToken ?? "");
      };
      await step(a, 5); // through Redis
      expect(a.lines).toEqual([]);

      await ownRedis.stop({ crash: true });
      await step(b, 5); // Redis is gone: B coordinates in-process
      await step(a, 5); // and so does A

      expect(backend.stats.refreshSucceeded).toBe(3);
      expect(backend.stats.reuseDetected).toBe(0);
      for (const instance of [a, b]) {
        const warnings = instance.lines.filter((line) => line.startsWith("redis-warn"));
        expect(warnings).toHaveLength(1);
        expect(warnings[0]).toMatch(
          /^redis-warn RedisCoordinator: Redis GET (timed out after 500 ms|failed \(.*\)); coordinating refreshes in this process only$/,
        );
        for (const line of instance.lines) {
          for (const token of seen) expect(line).not.toContain(token);
        }
      }
    } finally {
      await ownRedis.stop();
    }
  });
});
