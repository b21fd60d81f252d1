import { randomUUID } from "node:crypto";
/**
 * RedisCoordinator, one rule at a time, on a real redis-server: how long the lock lives, that it
 * is always released (or deliberately kept), what a shared outcome must look like to be used,
 * what each Redis failure does to a refresh (and what it logs, rate-limited), and how the secret
 * is chosen. Failures are injected by a `commands` adapter over a real ioredis connection that
 * fails chosen commands the way a dropped connection does.
 */
import type { Redis } from "ioredis";
import { afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import {
  type CoordinatedRefresh,
  type RedisCommands,
  RedisCoordinator,
  type RefreshOutcome,
} from "../src/index.js";
import { sealedBox } from "../src/lib/sealed-box.js";
import { recordingLogger, redisForFile, rotatedOutcome, SECRET } from "./harness/index.js";

const redis = redisForFile();
const connect = redis.connect;
/**
 * This run's own tag in keys and scopes: coordinator scopes are process-wide and Redis keys
 * outlive a run, so names must not repeat when the file runs again in the same process (as
 * `npm run mutate` does) or against the same server.
 */
const RUN = randomUUID().slice(0, 8);
let raw: Redis;
let counter = 0;
/** A key prefix and an in-process scope of its own per coordinator group. */
const fresh = () => `rc${++counter}-${RUN}:`;

beforeAll(() => {
  raw = connect();
});

afterEach(() => {
  vi.useRealTimers();
  vi.unstubAllEnvs();
});

/** No Auth.js secret in the environment (restored after the test). */
function withoutEnvSecrets() {
  for (const name of [
    "AUTH_SECRET",
    "NEXTAUTH_SECRET",
    "AUTH_SECRET_1",
    "AUTH_SECRET_2",
    "AUTH_SECRET_3",
  ]) {
    vi.stubEnv(name, undefined);
  }
}

type Command = "SET NX" | "SET" | "GET" | "EVAL";

/**
 * A `commands` adapter over a real connection. `failNext(command, n)` makes the next `n` calls
 * of that command throw as a reset connection does; `before(command, hook)` runs `hook` before
 * the next call of that command reaches Redis.
 */
function faultyCommands(io = connect()) {
  const failures = new Map<Command, number>();
  const hooks = new Map<Command, () => Promise<void>>();
  const calls: Command[] = [];
  const enter = async (command: Command) => {
    calls.push(command);
    const hook = hooks.get(command);
    if (hook) {
      hooks.delete(command);
      await hook();
    }
    const left = failures.get(command) ?? 0;
    if (left > 0) {
      failures.set(command, left - 1);
      throw Object.assign(new Error("read ECONNRESET"), { code: "ECONNRESET" });
    }
  };
  const commands: RedisCommands = {
    set: async (key, value, { px, nx }) => {
      await enter(nx ? "SET NX" : "SET");
      return nx ? io.set(key, value, "PX", px, "NX") : io.set(key, value, "PX", px);
    },
    get: async (key) => {
      await enter("GET");
      return io.get(key);
    },
    del: (key) => io.del(key),
    eval: async (script, keys, args) => {
      await enter("EVAL");
      return io.eval(script, keys.length, ...keys, ...args);
    },
  };
  return {
    commands,
    calls,
    failNext(command: Command, times = 1) {
      failures.set(command, times);
    },
    before(command: Command, hook: () => Promise<void>) {
      hooks.set(command, hook);
    },
  };
}

const rotated = rotatedOutcome;

/** A refresh that counts its calls, runs `during` while it "talks to the backend", then answers. */
function refreshAnswering(
  outcome: RefreshOutcome,
  shareForMs: number,
  during?: () => Promise<void>,
) {
  const refresh = Object.assign(
    async (): Promise<CoordinatedRefresh> => {
      refresh.calls++;
      await during?.();
      return { outcome, shareForMs };
    },
    { calls: 0 },
  );
  return refresh;
}

/** A coordinator on its own prefix and scope, with a recording logger. */
function coordinator(options: Partial<ConstructorParameters<typeof RedisCoordinator>[0]> = {}) {
  const prefix = options.prefix ?? fresh();
  const logger = recordingLogger();
  const instance = new RedisCoordinator({
    client: options.commands ? undefined : connect(),
    secret: SECRET,
    scope: prefix,
    logger,
    ...options,
    prefix,
  });
  return { coordinator: instance, prefix, logger };
}

/** Seals `entry` as a coordinator with {@link SECRET} would, under `<prefix>result:<key>`. */
async function storeEntry(prefix: string, key: string, entry: unknown) {
  const resultKey = `${prefix}result:${key}`;
  const sealed = await sealedBox([SECRET]).seal(JSON.stringify(entry), resultKey);
  await raw.set(resultKey, sealed, "PX", 10_000);
}

describe("RedisCoordinator lock lifetime", () => {
  it("holds the lock for the refresh's longest duration, rounded up, plus 5 s", async () => {
    const { coordinator: c, prefix } = coordinator();
    let ttl = 0;
    const refresh = refreshAnswering(rotated("a"), 1_000, async () => {
      ttl = await raw.pttl(`${prefix}lock:k`);
    });
    await c.run("k", refresh, { maxDurationMs: 1_000.2 });
    expect(ttl).toBeLessThanOrEqual(6_001);
    expect(ttl).toBeGreaterThan(5_900);
  });

  it("holds the lock for 35 s when neither lockTtlMs nor the refresh's limits are known", async () => {
    const { coordinator: c, prefix } = coordinator();
    let ttl = 0;
    await c.run(
      "k",
      refreshAnswering(rotated("a"), 0, async () => {
        ttl = await raw.pttl(`${prefix}lock:k`);
      }),
    );
    expect(ttl).toBeGreaterThan(34_000);
    expect(ttl).toBeLessThanOrEqual(35_000);
  });

  it("a fixed lockTtlMs is rounded up to whole milliseconds and wins over the refresh's limits", async () => {
    const { coordinator: c, prefix } = coordinator({ lockTtlMs: 7_000.1 });
    expect(c.lockTtlMs).toBe(7_001);
    let ttl = 0;
    await c.run(
      "k",
      refreshAnswering(rotated("a"), 0, async () => {
        ttl = await raw.pttl(`${prefix}lock:k`);
      }),
      { maxDurationMs: 60_000 },
    );
    expect(ttl).toBeGreaterThan(6_000);
    expect(ttl).toBeLessThanOrEqual(7_001);
  });

  it("releases the lock after the refresh, whether its outcome is shared or not", async () => {
    const { coordinator: c, prefix } = coordinator();
    await c.run("shared", refreshAnswering(rotated("a"), 5_000));
    await c.run("private", refreshAnswering({ kind: "unavailable" }, 0));
    expect(await raw.keys(`${prefix}lock:*`)).toEqual([]);
    expect(await raw.keys(`${prefix}result:*`)).toEqual([`${prefix}result:shared`]);
  });

  it("releases the lock when the refresh throws, and the error reaches the caller", async () => {
    const { coordinator: c, prefix } = coordinator();
    const failing = async (): Promise<CoordinatedRefresh> => {
      throw new Error("backend exploded");
    };
    await expect(c.run("k", failing)).rejects.toThrow("backend exploded");
    expect(await raw.exists(`${prefix}lock:k`)).toBe(0);
  });

  it("stores the outcome for shareForMs rounded up, with the deadline sealed inside", async () => {
    const now = 1_000_000;
    const { coordinator: c, prefix } = coordinator({ now: () => now });
    await c.run("k", refreshAnswering(rotated("a"), 2_000.5));
    const ttl = await raw.pttl(`${prefix}result:k`);
    expect(ttl).toBeGreaterThan(1_500);
    expect(ttl).toBeLessThanOrEqual(2_001);
    const sealed = (await raw.get(`${prefix}result:k`)) ?? "";
    const entry = JSON.parse(
      (await sealedBox([SECRET]).open(sealed, `${prefix}result:k`)) ?? "null",
    ) as { until: number };
    expect(entry).toEqual({ outcome: rotated("a"), until: now + 2_001 });
  });
});

describe("RedisCoordinator shared outcomes", () => {
  it("uses an outcome another instance stored instead of refreshing, for the time it has left", async () => {
    let now = 5_000_000;
    const prefix = fresh();
    const faults = faultyCommands();
    const { coordinator: reader } = coordinator({
      prefix,
      now: () => now,
      commands: faults.commands,
    });
    for (const outcome of [
      rotated("x"),
      { kind: "rejected" as const },
      { kind: "unavailable" as const },
    ]) {
      await storeEntry(prefix, `k-${outcome.kind}`, { outcome, until: now + 1 });
      const refresh = refreshAnswering(rotated("mine"), 0);
      faults.calls.length = 0;
      expect(await reader.run(`k-${outcome.kind}`, refresh)).toEqual(outcome);
      expect(refresh.calls).toBe(0);
      expect(faults.calls).toEqual(["GET"]); // no lock taken for it
    }
    await storeEntry(prefix, "ending", { outcome: rotated("old"), until: now });
    expect(await reader.peek("ending")).toBeUndefined();
    now -= 1;
    expect(await reader.peek("ending")).toEqual(rotated("old"));
  });

  it("ignores entries that decrypt but are not outcomes: unknown kind, no deadline, not JSON, null", async () => {
    const prefix = fresh();
    const { coordinator: reader, logger } = coordinator({ prefix });
    const now = Date.now();
    const entries: Record<string, unknown> = {
      kind: { outcome: { kind: "refreshed" }, until: now + 10_000 },
      "no-outcome": { until: now + 10_000 },
      "no-deadline": { outcome: rotated("a") },
      "text-deadline": { outcome: rotated("a"), until: String(now + 10_000) },
      null: null,
    };
    for (const [key, entry] of Object.entries(entries)) await storeEntry(prefix, key, entry);
    const resultKey = `${prefix}result:not-json`;
    await raw.set(resultKey, await sealedBox([SECRET]).seal("{", resultKey), "PX", 10_000);
    for (const key of [...Object.keys(entries), "not-json"]) {
      const refresh = refreshAnswering(rotated(key), 0);
      expect(await reader.run(key, refresh)).toEqual(rotated(key));
      expect(refresh.calls).toBe(1);
    }
    expect(logger.lines).toEqual([
      "warn RedisCoordinator: ignored a shared outcome that does not decrypt with the secret",
    ]);
  });

  it("looks again after taking the lock: an outcome stored in between is used, not refreshed over", async () => {
    const prefix = fresh();
    const faults = faultyCommands();
    const { coordinator: late } = coordinator({ prefix, commands: faults.commands });
    // Between this instance's first look and its SET NX, another instance finishes its refresh.
    faults.before("SET NX", () =>
      storeEntry(prefix, "k", { outcome: rotated("other"), until: Date.now() + 10_000 }),
    );
    const refresh = refreshAnswering(rotated("late"), 5_000);
    expect(await late.run("k", refresh)).toEqual(rotated("other"));
    expect(refresh.calls).toBe(0);
    expect(faults.calls).toEqual(["GET", "SET NX", "GET", "EVAL"]);
    expect(await raw.exists(`${prefix}lock:k`)).toBe(0);
  });

  it("waits for a live foreign lock with pauses growing by half up to 250 ms, then gives up as unavailable", async () => {
    const prefix = fresh();
    const faults = faultyCommands();
    const looks: number[] = [];
    const get = faults.commands.get;
    faults.commands.get = (key) => {
      looks.push(performance.now());
      return get(key);
    };
    const { coordinator: waiter, logger } = coordinator({
      prefix,
      commands: faults.commands,
      lockTtlMs: 1_000,
      pollIntervalMs: 10,
    });
    await raw.set(`${prefix}lock:k`, "someone-else", "PX", 10_000);
    const refresh = refreshAnswering(rotated("k"), 5_000);
    expect(await waiter.run("k", refresh)).toEqual({ kind: "unavailable" });
    expect(refresh.calls).toBe(0);
    // Pauses 10, 15, 23, 35, 53, 80, 120, 180, 250, 250, 250: 12 looks in the 1.5 s allowed.
    // Growing without the cap would pause 270, 405, 608; a fixed 10 ms would look 150 times.
    const pauses = looks.slice(1).map((at, i) => at - (looks[i] ?? at));
    expect(looks.length).toBeGreaterThanOrEqual(6);
    expect(looks.length).toBeLessThanOrEqual(16);
    expect(pauses[1]).toBeLessThan(150);
    expect(Math.max(...pauses)).toBeLessThan(340);
    expect(logger.lines).toEqual([
      "warn RedisCoordinator: gave up waiting 1500 ms for another instance's refresh (is lockTtlMs shorter than the refresh timeout?)",
    ]);
  });
});

describe("RedisCoordinator when Redis fails", () => {
  it("a failed first look: refreshes in this process, publishes the outcome in the background, warns once", async () => {
    const prefix = fresh();
    const faults = faultyCommands();
    const { coordinator: c, logger } = coordinator({ prefix, commands: faults.commands });
    faults.failNext("GET");
    const refresh = refreshAnswering(rotated("a"), 5_000);
    expect(await c.run("k", refresh)).toEqual(rotated("a"));
    expect(refresh.calls).toBe(1);
    expect(logger.lines).toEqual([
      "warn RedisCoordinator: Redis GET failed (Error ECONNRESET); coordinating refreshes in this process only",
    ]);
    await vi.waitFor(async () => expect(await raw.exists(`${prefix}result:k`)).toBe(1));
    const { coordinator: other } = coordinator({ prefix, scope: fresh() });
    expect(await other.peek("k")).toEqual(rotated("a"));
  });

  it("a failed first look does not publish an outcome that must not be shared", async () => {
    const prefix = fresh();
    const faults = faultyCommands();
    const { coordinator: c } = coordinator({ prefix, commands: faults.commands });
    faults.failNext("GET");
    await c.run("k", refreshAnswering({ kind: "unavailable" }, 0));
    expect(faults.calls).toEqual(["GET"]);
  });

  it("Redis failing while another instance holds the lock: unavailable, never a refresh with a token it may be rotating", async () => {
    const prefix = fresh();
    const faults = faultyCommands();
    const { coordinator: waiter, logger } = coordinator({ prefix, commands: faults.commands });
    await raw.set(`${prefix}lock:k`, "someone-else", "PX", 10_000);
    faults.before("SET NX", async () => faults.failNext("GET"));
    const refresh = refreshAnswering(rotated("k"), 5_000);
    expect(await waiter.run("k", refresh)).toEqual({ kind: "unavailable" });
    expect(refresh.calls).toBe(0);
    expect(logger.lines).toEqual([
      "warn RedisCoordinator: Redis GET failed (Error ECONNRESET); coordinating refreshes in this process only",
    ]);
  });

  it("the second look failing after taking the lock: refreshes anyway and says so", async () => {
    const prefix = fresh();
    const faults = faultyCommands();
    const { coordinator: c, logger } = coordinator({ prefix, commands: faults.commands });
    faults.before("SET NX", async () => faults.failNext("GET"));
    const refresh = refreshAnswering(rotated("a"), 5_000);
    expect(await c.run("k", refresh)).toEqual(rotated("a"));
    expect(refresh.calls).toBe(1);
    expect(logger.lines).toEqual([
      "warn RedisCoordinator: Redis GET failed (Error ECONNRESET); refreshing without checking for a shared outcome",
    ]);
    expect(await raw.exists(`${prefix}lock:k`)).toBe(0);
  });

  it("storing the outcome failing: the caller gets it, and the lock is kept until it expires", async () => {
    const prefix = fresh();
    const faults = faultyCommands();
    const { coordinator: c, logger } = coordinator({ prefix, commands: faults.commands });
    faults.failNext("SET");
    expect(await c.run("k", refreshAnswering(rotated("a"), 5_000))).toEqual(rotated("a"));
    expect(logger.lines).toEqual([
      "warn RedisCoordinator: Redis SET failed (Error ECONNRESET); the outcome is shared in this process only",
    ]);
    expect(await raw.pttl(`${prefix}lock:k`)).toBeGreaterThan(0);
    expect(faults.calls).not.toContain("EVAL");
  });

  it("releasing the lock failing: the outcome stands, and the log says the lock expires on its own", async () => {
    const prefix = fresh();
    const faults = faultyCommands();
    const { coordinator: c, logger } = coordinator({ prefix, commands: faults.commands });
    faults.failNext("EVAL");
    expect(await c.run("k", refreshAnswering(rotated("a"), 5_000))).toEqual(rotated("a"));
    expect(logger.lines).toEqual([
      "warn RedisCoordinator: Redis EVAL failed (Error ECONNRESET); the refresh lock expires on its own",
    ]);
  });

  it("peek with Redis failing: nothing shared is visible, one warning", async () => {
    const faults = faultyCommands();
    const { coordinator: c, logger } = coordinator({ commands: faults.commands });
    faults.failNext("GET");
    expect(await c.peek("k")).toBeUndefined();
    expect(logger.lines).toEqual([
      "warn RedisCoordinator: Redis GET failed (Error ECONNRESET); shared outcomes are not visible to this instance",
    ]);
  });

  it("warns at most once per kind per 30 s, then says how many were suppressed", async () => {
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(10_000_000);
    const faults = faultyCommands();
    const { coordinator: c, logger, prefix } = coordinator({ commands: faults.commands });
    const failingPeek = async () => {
      faults.failNext("GET");
      return c.peek("k");
    };
    await failingPeek();
    vi.setSystemTime(10_000_000 + 29_999);
    await failingPeek();
    await failingPeek();
    // Another kind is not held back by the first.
    await raw.set(`${prefix}result:garbled`, "v1.not.sealed", "PX", 10_000);
    expect(await c.peek("garbled")).toBeUndefined();
    vi.setSystemTime(10_000_000 + 30_000);
    await failingPeek();
    await failingPeek();
    vi.setSystemTime(10_000_000 + 60_000);
    await failingPeek();
    const notVisible =
      "Redis GET failed (Error ECONNRESET); shared outcomes are not visible to this instance";
    expect(logger.lines).toEqual([
      `warn RedisCoordinator: ${notVisible}`,
      "warn RedisCoordinator: ignored a shared outcome that does not decrypt with the secret",
      `warn RedisCoordinator: ${notVisible} (2 similar warnings suppressed)`,
      `warn RedisCoordinator: ${notVisible} (1 similar warnings suppressed)`,
    ]);
  });

  it("every Redis failure shares one rate limit, whichever step it hit", async () => {
    const faults = faultyCommands();
    const { coordinator: c, logger } = coordinator({ commands: faults.commands });
    faults.failNext("GET");
    await c.run("first-look", refreshAnswering({ kind: "unavailable" }, 0));
    faults.before("SET NX", async () => faults.failNext("GET"));
    await c.run("second-look", refreshAnswering({ kind: "unavailable" }, 0));
    faults.failNext("SET");
    await c.run("store", refreshAnswering(rotated("a"), 5_000));
    faults.failNext("EVAL");
    await c.run("release", refreshAnswering({ kind: "unavailable" }, 0));
    expect(logger.lines).toEqual([
      "warn RedisCoordinator: Redis GET failed (Error ECONNRESET); coordinating refreshes in this process only",
    ]);
  });

  it("an error that is not a Redis failure in the second look is not taken for one: the run fails loudly", async () => {
    withoutEnvSecrets();
    const prefix = fresh();
    const faults = faultyCommands();
    const logger = recordingLogger();
    const c = new RedisCoordinator({ commands: faults.commands, prefix, scope: prefix, logger });
    // An entry appears between the first look and the lock; reading it needs the secret.
    faults.before("SET NX", () =>
      storeEntry(prefix, "k", { outcome: rotated("other"), until: Date.now() + 10_000 }),
    );
    const refresh = refreshAnswering(rotated("a"), 5_000);
    await expect(c.run("k", refresh)).rejects.toThrow(/RedisCoordinator: no secret/);
    expect(refresh.calls).toBe(0);
    expect(logger.lines).toEqual([]);
  });

  it("errors that are not Redis failures are not swallowed: a missing secret is a loud TypeError", async () => {
    withoutEnvSecrets();
    const prefix = fresh();
    const c = new RedisCoordinator({ client: connect(), prefix, scope: prefix });
    const refresh = refreshAnswering(rotated("a"), 5_000);
    await expect(c.run("k", refresh)).rejects.toThrow(
      new TypeError(
        "RedisCoordinator: no secret: give option secret, set AUTH_SECRET, or use the coordinator through withBackend with config.secret",
      ),
    );
    await storeEntry(prefix, "k2", { outcome: rotated("b"), until: Date.now() + 10_000 });
    await expect(c.peek("k2")).rejects.toThrow(/no secret/);
    vi.stubEnv("AUTH_SECRET", SECRET);
    expect(await c.peek("k2")).toEqual(rotated("b"));
  });
});

describe("RedisCoordinator secrets", () => {
  it("adopts the Auth.js secrets handed over by withBackend, unless its own secret was given or the list is unusable", async () => {
    const prefix = fresh();
    const otherSecret = "another-auth-secret-of-at-least-32-chars";
    const writer = new RedisCoordinator({
      client: connect(),
      secret: otherSecret,
      prefix,
      scope: fresh(),
    });
    await writer.run("k", refreshAnswering(rotated("w"), 10_000));
    await storeEntry(prefix, "env", { outcome: rotated("env"), until: Date.now() + 10_000 });

    const adopting = new RedisCoordinator({
      client: connect(),
      secret: SECRET,
      prefix,
      scope: fresh(),
      logger: recordingLogger(),
    });
    adopting.adoptAuthSecret([otherSecret]);
    expect(await adopting.peek("k")).toBeUndefined(); // its own secret is kept

    vi.stubEnv("AUTH_SECRET", SECRET);
    for (const unusable of [[], [""], [otherSecret, ""], [42 as unknown as string]]) {
      const c = new RedisCoordinator({
        client: connect(),
        prefix,
        scope: fresh(),
        logger: recordingLogger(),
      });
      c.adoptAuthSecret(unusable);
      // Still the environment's secret: reads what it sealed, not what the other one sealed.
      expect(await c.peek("env")).toEqual(rotated("env"));
      expect(await c.peek("k")).toBeUndefined();
    }
    const adopted = new RedisCoordinator({ client: connect(), prefix, scope: fresh() });
    adopted.adoptAuthSecret(["a-newer-secret-of-at-least-32-characters", otherSecret]);
    expect(await adopted.peek("k")).toEqual(rotated("w"));
  });

  it("refuses options that are not an object, a prefix that is not a string, a logger without warn, a commands adapter without set/get/del, and secrets that are not non-empty strings", () => {
    const client = connect();
    expect(() => new RedisCoordinator(null as never)).toThrow(
      new TypeError("RedisCoordinator: options must be an object"),
    );
    expect(() => new RedisCoordinator("redis://" as never)).toThrow(/options must be an object/);
    expect(() => new RedisCoordinator({ client, secret: SECRET, prefix: 5 as never })).toThrow(
      /RedisCoordinator: option prefix must be a string/,
    );
    expect(() => new RedisCoordinator({ client, secret: SECRET, logger: {} as never })).toThrow(
      new TypeError("RedisCoordinator: option logger must have a warn(message) method"),
    );
    expect(
      () => new RedisCoordinator({ client, secret: SECRET, logger: { warn: "loudly" } as never }),
    ).toThrow(/option logger must have a warn/);
    expect(
      () => new RedisCoordinator({ commands: { get() {}, del() {} } as never, secret: SECRET }),
    ).toThrow(new TypeError("RedisCoordinator: option commands must have set, get and del"));
    for (const notAClient of [null, Object.assign(() => {}, { set() {}, get() {}, del() {} })]) {
      expect(() => new RedisCoordinator({ client: notAClient as never, secret: SECRET })).toThrow(
        new TypeError("RedisCoordinator: option client must have set, get and del (ioredis)"),
      );
    }
    expect(() => new RedisCoordinator({ client, secret: SECRET, now: 5 as never })).toThrow(
      /^RedisCoordinator: option now must be a function/,
    );
    expect(
      () => new RedisCoordinator({ client: { set() {}, get() {} } as never, secret: SECRET }),
    ).toThrow(
      new TypeError("RedisCoordinator: option client must have set, get and del (ioredis)"),
    );
    // A client that merely has isOpen (not node-redis's sendCommand) is accepted.
    const withIsOpen = { isOpen: true, set() {}, get() {}, del() {} };
    expect(
      () => new RedisCoordinator({ client: withIsOpen as never, secret: SECRET }),
    ).not.toThrow();
    for (const secret of [[SECRET, ""], [SECRET, 7], 7]) {
      expect(() => new RedisCoordinator({ client, secret: secret as never })).toThrow(
        new TypeError(
          "RedisCoordinator: option secret must be a non-empty string or array of them",
        ),
      );
    }
    expect(() => new RedisCoordinator({ client, secret: [SECRET] })).not.toThrow();
  });
});
