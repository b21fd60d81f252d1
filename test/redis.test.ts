import { randomUUID } from "node:crypto";
import { Redis } from "ioredis";
import { beforeAll, describe, expect, it } from "vitest";
import {
  BackendCredentials,
  type CoordinatedRefresh,
  type RedisCommands,
  RedisCoordinator,
  type RefreshOutcome,
  withBackend,
} from "../src/index.js";
import {
  ADMIN,
  AuthClient,
  appConfig,
  recordingLogger,
  redisForFile,
  rotatedOutcome,
  SECRET,
  signedIn,
  signedInWithEvents,
  tokenFromResponse,
} from "./harness/index.js";

const redis = redisForFile();
const connect = redis.connect;
/**
 * This run's own tag in keys and scopes: coordinator scopes are process-wide and Redis keys
 * outlive a run, so names must not repeat when the file runs again in the same process (as
 * `npm run mutate` does) or against the same server.
 */
const RUN = randomUUID().slice(0, 8);
let raw: Redis;
let prefixCounter = 0;
/**
 * A scope of its own for a coordinator that models a separate process (coordinators of one scope
 * share their in-process state, as the bundles of one app do).
 */
let scopeCounter = 0;
const ownScope = () => `instance-${++scopeCounter}-${RUN}`;
/** A coordinator of its own instance (see ownScope) on the test server, keys under `prefix`. */
const instance = (prefix: string) =>
  new RedisCoordinator({ scope: ownScope(), client: connect(), secret: SECRET, prefix });
/** A fresh key prefix per test, so tests never see each other's entries. */
const freshPrefix = () => `test${++prefixCounter}-${RUN}:`;

beforeAll(() => {
  raw = connect();
});

const rotated = rotatedOutcome;

/** A refresh function that counts its calls and answers `outcome` after `delayMs`. */
function countingRefresh(outcome: RefreshOutcome, shareForMs: number, delayMs = 0) {
  const refresh = Object.assign(
    async (): Promise<CoordinatedRefresh> => {
      refresh.calls++;
      if (delayMs > 0) await new Promise((resolve) => setTimeout(resolve, delayMs));
      return { outcome, shareForMs };
    },
    { calls: 0 },
  );
  return refresh;
}

describe("RedisCoordinator on a real redis-server", () => {
  it("single flight across two coordinators (two processes' worth): one refresh, one outcome for all", async () => {
    const prefix = freshPrefix();
    const a = instance(prefix);
    const b = instance(prefix);
    const refreshA = countingRefresh(rotated("a"), 5_000, 150);
    const refreshB = countingRefresh(rotated("b"), 5_000, 150);
    const outcomes = await Promise.all([
      ...Array.from({ length: 10 }, () => a.run("k1", refreshA)),
      ...Array.from({ length: 10 }, () => b.run("k1", refreshB)),
    ]);
    expect(refreshA.calls + refreshB.calls).toBe(1);
    const winner = refreshA.calls === 1 ? rotated("a") : rotated("b");
    for (const outcome of outcomes) expect(outcome).toEqual(winner);
    expect(await raw.keys(`${prefix}lock:*`)).toEqual([]);
  });

  it("shares an outcome for shareForMs across coordinators, then forgets it", async () => {
    const prefix = freshPrefix();
    const a = instance(prefix);
    const b = instance(prefix);
    const first = countingRefresh(rotated("first"), 400);
    expect(await a.run("k2", first)).toEqual(rotated("first"));
    const ttl = await raw.pttl(`${prefix}result:k2`);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(400);

    expect(await b.peek("k2")).toEqual(rotated("first"));
    const second = countingRefresh(rotated("second"), 400);
    expect(await b.run("k2", second)).toEqual(rotated("first"));
    expect(second.calls).toBe(0);

    const deadline = Date.now() + 3_000;
    while ((await b.peek("k2")) !== undefined && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    expect(await b.peek("k2")).toBeUndefined();
    expect(await b.run("k2", second)).toEqual(rotated("second"));
    expect(second.calls).toBe(1);
  });

  it("does not store outcomes that must not be shared (shareForMs 0)", async () => {
    const prefix = freshPrefix();
    const a = instance(prefix);
    await a.run("k3", countingRefresh({ kind: "unavailable" }, 0));
    expect(await raw.keys(`${prefix}*`)).toEqual([]);
  });

  it("an entry under another secret, tampered with or moved to another key is treated as absent (logged once)", async () => {
    const prefix = freshPrefix();
    const writer = instance(prefix);
    await writer.run("k4", countingRefresh(rotated("k4"), 10_000));
    await writer.run("k5", countingRefresh(rotated("k5"), 10_000));

    const logger = recordingLogger();
    const stranger = new RedisCoordinator({
      scope: ownScope(),
      client: connect(),
      secret: "another-secret-of-at-least-32-characters",
      prefix,
      logger,
    });
    expect(await stranger.peek("k4")).toBeUndefined();
    const refresh = countingRefresh(rotated("stranger"), 10_000);
    expect(await stranger.run("k4", refresh)).toEqual(rotated("stranger"));
    expect(refresh.calls).toBe(1);
    expect(logger.lines).toEqual([
      "warn RedisCoordinator: ignored a shared outcome that does not decrypt with the secret",
    ]);

    // Secret rotation: [new, old] reads what [old] wrote.
    const rotatedSecrets = new RedisCoordinator({
      scope: ownScope(),
      client: connect(),
      secret: ["a-brand-new-secret-of-at-least-32-characters", SECRET],
      prefix,
    });
    expect(await rotatedSecrets.peek("k5")).toEqual(rotated("k5"));

    // The key is authenticated: the same ciphertext under another key does not decrypt.
    const reader = new RedisCoordinator({
      scope: ownScope(),
      client: connect(),
      secret: SECRET,
      prefix,
      logger,
    });
    const sealed = await raw.get(`${prefix}result:k5`);
    expect(sealed).toBeTruthy();
    await raw.set(`${prefix}result:k6`, sealed ?? "", "PX", 10_000);
    expect(await reader.peek("k6")).toBeUndefined();
    // A flipped ciphertext byte does not decrypt either.
    const [version, iv, body = ""] = (sealed ?? "").split(".");
    const flipped = `${body.startsWith("A") ? "B" : "A"}${body.slice(1)}`;
    await raw.set(`${prefix}result:k7`, `${version}.${iv}.${flipped}`, "PX", 10_000);
    expect(await reader.peek("k7")).toBeUndefined();
    expect(await reader.peek("k5")).toEqual(rotated("k5"));
  });

  it("never refreshes while another instance holds a live lock; gives up as unavailable after lockTtlMs", async () => {
    const prefix = freshPrefix();
    await raw.set(`${prefix}lock:k8`, "someone-else", "PX", 10_000);
    const logger = recordingLogger();
    const waiter = new RedisCoordinator({
      scope: ownScope(),
      client: connect(),
      secret: SECRET,
      prefix,
      lockTtlMs: 300,
      logger,
    });
    const refresh = countingRefresh(rotated("k8"), 10_000);
    const started = Date.now();
    expect(await waiter.run("k8", refresh)).toEqual({ kind: "unavailable" });
    expect(Date.now() - started).toBeGreaterThanOrEqual(300);
    expect(refresh.calls).toBe(0);
    expect(logger.lines.join("\n")).toMatch(/gave up waiting 800 ms/);
  });

  it("takes over once a crashed holder's lock expires without an outcome", async () => {
    const prefix = freshPrefix();
    await raw.set(`${prefix}lock:k9`, "crashed-holder", "PX", 300);
    const waiter = instance(prefix);
    const refresh = countingRefresh(rotated("k9"), 10_000);
    const started = Date.now();
    expect(await waiter.run("k9", refresh)).toEqual(rotated("k9"));
    expect(Date.now() - started).toBeGreaterThanOrEqual(250);
    expect(refresh.calls).toBe(1);
  });

  it("accepts an options-object client through `commands` (node-redis / Upstash shape)", async () => {
    const prefix = freshPrefix();
    const io = connect();
    // Upstash's calling convention, backed by ioredis.
    const commands: RedisCommands = {
      set: (key, value, { px, nx }) =>
        nx ? io.set(key, value, "PX", px, "NX") : io.set(key, value, "PX", px),
      get: (key) => io.get(key),
      del: (key) => io.del(key),
      eval: (script, keys, args) => io.eval(script, keys.length, ...keys, ...args),
    };
    const a = new RedisCoordinator({ scope: ownScope(), commands, secret: SECRET, prefix });
    const b = instance(prefix);
    const refreshA = countingRefresh(rotated("a"), 5_000, 100);
    const refreshB = countingRefresh(rotated("b"), 5_000, 100);
    const [first, second] = await Promise.all([a.run("k10", refreshA), b.run("k10", refreshB)]);
    expect(refreshA.calls + refreshB.calls).toBe(1);
    expect(first).toEqual(second);
    expect(await raw.keys(`${prefix}lock:*`)).toEqual([]);
  });

  it("falls back to in-process single flight when Redis is unreachable, with one warning", async () => {
    const logger = recordingLogger();
    const nowhere = connect(1); // nothing listens on port 1
    const coordinator = new RedisCoordinator({
      scope: ownScope(),
      client: nowhere,
      secret: SECRET,
      commandTimeoutMs: 100,
      logger,
    });
    const refresh = countingRefresh(rotated("offline"), 5_000, 50);
    const outcomes = await Promise.all(
      Array.from({ length: 5 }, () => coordinator.run("k11", refresh)),
    );
    expect(refresh.calls).toBe(1);
    for (const outcome of outcomes) expect(outcome).toEqual(rotated("offline"));
    expect(await coordinator.peek("k11")).toEqual(rotated("offline"));
    expect(await coordinator.peek("other")).toBeUndefined();
    expect(logger.lines).toHaveLength(1);
    expect(logger.lines[0]).toMatch(
      /^warn RedisCoordinator: Redis GET (timed out after 100 ms|failed \(.*\)); coordinating refreshes in this process only$/,
    );
  });

  it("rejects invalid options with a TypeError naming the option", () => {
    const client = connect();
    for (const lockTtlMs of [0, -1, Number.NaN, Number.POSITIVE_INFINITY, "15000"]) {
      expect(
        () => new RedisCoordinator({ client, secret: SECRET, lockTtlMs: lockTtlMs as number }),
      ).toThrow(new TypeError("RedisCoordinator: option lockTtlMs must be a finite number > 0"));
    }
    expect(() => new RedisCoordinator({ client, secret: SECRET, pollIntervalMs: 0 })).toThrow(
      /option pollIntervalMs/,
    );
    expect(() => new RedisCoordinator({ client, secret: SECRET, commandTimeoutMs: -5 })).toThrow(
      /option commandTimeoutMs/,
    );
    expect(() => new RedisCoordinator({ scope: ownScope(), secret: SECRET })).toThrow(
      /client and commands/,
    );
    expect(
      () =>
        new RedisCoordinator({
          scope: ownScope(),
          client,
          commands: client as never,
          secret: SECRET,
        }),
    ).toThrow(/client and commands/);
    expect(() => new RedisCoordinator({ client: {} as never, secret: SECRET })).toThrow(
      /option client/,
    );
    const nodeRedisLike = { isOpen: true, sendCommand() {}, set() {}, get() {}, del() {} };
    expect(() => new RedisCoordinator({ client: nodeRedisLike as never, secret: SECRET })).toThrow(
      /node-redis client; pass it through option commands/,
    );
    expect(() => new RedisCoordinator({ client, secret: [] })).toThrow(TypeError);
    expect(() => new RedisCoordinator({ client, secret: "" })).toThrow(/option secret/);
    // No fixed TTL by default: each lock lives as long as the refresh it guards can answer.
    expect(new RedisCoordinator({ client, secret: SECRET }).lockTtlMs).toBeUndefined();
    expect(() => new RedisCoordinator({ client, secret: SECRET, scope: "" })).toThrow(
      /option scope/,
    );
  });
});

// ---------------------------------------------------------------------------
// Through Auth(): in this process, and across app instances in child processes
// ---------------------------------------------------------------------------

/** Past the access token's lifetime (600 s): the next session read must refresh. */
const EXPIRY_JUMP_SECONDS = 700;

describe("through Auth() in this process", () => {
  it("what Redis holds is neither readable outcomes nor tokens, in values or keys", async () => {
    const prefix = freshPrefix();
    const coordination = instance(prefix);
    const { backend, clock, browser, before } = await signedIn(
      { tokenPlacement: "body" },
      { coordination },
    );
    clock.advance(EXPIRY_JUMP_SECONDS);
    expect((await browser.session())?.error).toBeUndefined();
    expect(backend.stats.refreshSucceeded).toBe(1);
    const after = (await browser.token())?.backend;

    const keys = await raw.keys(`${prefix}*`);
    expect(keys).toHaveLength(1); // the shared outcome; the lock is gone
    const [key = ""] = keys;
    expect(key).toMatch(new RegExp(`^${prefix}result:[\\w-]{43}$`));
    const value = (await raw.get(key)) ?? "";
    expect(value).toMatch(/^v1\.[\w-]{16}\.[\w-]+$/);
    const secrets = [
      before?.accessToken,
      before?.refreshToken,
      after?.accessToken,
      after?.refreshToken,
    ];
    for (const secret of secrets) {
      expect(secret).toBeTruthy();
      expect(value).not.toContain(secret);
      expect(key).not.toContain(secret);
    }
    for (const field of ["accessToken", "refreshToken", "rotated", "kind"]) {
      expect(value).not.toContain(field);
    }
    // It is the real outcome: another coordinator with the secret reads the new tokens from it.
    const reader = instance(prefix);
    const shared = await reader.peek(key.slice(`${prefix}result:`.length));
    expect(shared).toMatchObject({
      kind: "rotated",
      accessToken: after?.accessToken,
      refreshToken: after?.refreshToken,
    });
  });
});

describe("late refresh answers with RedisCoordinator", () => {
  it("a refresh answered after timeoutMs (backend rotated): another instance's request while it is in flight joins it, later requests get the rotated tokens; 1 backend refresh, 0 reuse", async () => {
    const prefix = freshPrefix();
    const limits = { timeoutMs: 1_000, lateAnswerLimitMs: 10_000 };
    const { backend, clock, browser, before, recorder } = await signedInWithEvents(
      { tokenPlacement: "mixed", accessTokenTtlSeconds: 600 },
      { ...limits, coordination: instance(prefix) },
    );
    // A second app instance: its own Auth.js config and coordinator, the same Redis and backend.
    const second = appConfig({ withBackend, BackendCredentials }, backend, clock, {
      ...limits,
      coordination: instance(prefix),
    });
    const onSecond = new AuthClient(second);
    for (const [name, value] of browser.cookies) onSecond.cookies.set(name, value);
    const onSecondLater = onSecond.clone();
    backend.injectFault("refresh", { answerDelayMs: 1_500 });
    clock.advance(EXPIRY_JUMP_SECONDS);
    const landed = recorder.next("lateAnswerRecovered");

    const first = await browser.session();
    expect(first?.user?.email).toBe(ADMIN.email);
    expect(first?.error).toBe("RefreshUnavailable");
    expect(backend.stats.refreshSucceeded).toBe(1);
    expect(await raw.keys(`${prefix}lock:*`)).toHaveLength(1); // held while the call can answer

    // The other instance, while the refresh is in flight: waits on the lock, gets the outcome.
    const joined = await onSecond.request("/session");
    const joinedState = (await tokenFromResponse(joined))?.backend;
    expect(((await joined.json()) as { error?: string }).error).toBeUndefined();
    expect(joinedState?.accessToken).toBeTruthy();
    expect(joinedState?.accessToken).not.toBe(before?.accessToken);
    await landed;

    // Both instances, with the retired token, get the rotation without a backend call.
    for (const client of [browser, onSecondLater]) {
      const late = await client.request("/session");
      expect(((await late.json()) as { error?: string }).error).toBeUndefined();
      expect((await tokenFromResponse(late))?.backend?.accessToken).toBe(joinedState?.accessToken);
    }
    expect(backend.stats.refresh).toBe(1);
    expect(backend.stats.reuseDetected).toBe(0);
    expect(recorder.named("lateAnswerRecovered")).toHaveLength(1);
    await expect.poll(() => raw.keys(`${prefix}lock:*`)).toEqual([]);
  });
});

describe("configuration", () => {
  it("without a secret of its own it takes the Auth.js config's secret from withBackend: one secret for the session and for Redis", async () => {
    const saved = {
      AUTH_SECRET: process.env.AUTH_SECRET,
      NEXTAUTH_SECRET: process.env.NEXTAUTH_SECRET,
    };
    delete process.env.AUTH_SECRET;
    delete process.env.NEXTAUTH_SECRET;
    try {
      const prefix = freshPrefix();
      const adopting = new RedisCoordinator({ scope: ownScope(), client: connect(), prefix });
      const refresh = async (): Promise<CoordinatedRefresh> => ({
        outcome: { kind: "rejected", status: 401 },
        shareForMs: 5_000,
      });
      // No secret anywhere yet: using it fails loudly (the provider treats it as transient).
      await expect(adopting.run("k1", refresh)).rejects.toThrow(/no secret/);
      withBackend({
        secret: SECRET,
        providers: [
          BackendCredentials({
            baseUrl: "http://127.0.0.1:9",
            endpoints: { logout: false },
            coordination: adopting,
          }),
        ],
      });
      const outcome = await adopting.run("k2", refresh);
      // Another instance configured with the same secret explicitly reads what it sealed.
      expect(await instance(prefix).peek("k2")).toEqual(outcome);
    } finally {
      for (const [name, value] of Object.entries(saved)) {
        if (value !== undefined) process.env[name] = value;
      }
    }
  });

  it("refuses a lock TTL that does not outlive the refresh (timeoutMs + lateAnswerLimitMs)", async () => {
    const client = new Redis({ lazyConnect: true });
    const coordination = new RedisCoordinator({ client, secret: SECRET, lockTtlMs: 5_000 });
    const baseUrl = "http://127.0.0.1:1";
    expect(() => BackendCredentials({ baseUrl, coordination, timeoutMs: 4_000 })).toThrow(
      /coordination\.lockTtlMs \(5000 ms\) must exceed options timeoutMs \+ lateAnswerLimitMs \(24000 ms\)/,
    );
    expect(() =>
      BackendCredentials({ baseUrl, coordination, timeoutMs: 3_000, lateAnswerLimitMs: 2_000 }),
    ).toThrow(/\(5000 ms\)/);
    expect(() =>
      BackendCredentials({ baseUrl, coordination, timeoutMs: 3_000, lateAnswerLimitMs: 1_000 }),
    ).not.toThrow();
    client.disconnect();
  });
});
