import { authSecrets } from "../lib/auth-secrets.js";
import { nonEmptyString, optionalFunction, optionError, positive } from "../lib/option-checks.js";
import { type SealedBox, sealedBox } from "../lib/sealed-box.js";
import type {
  CoordinatedRefresh,
  RefreshCoordinator,
  RefreshLimits,
  RefreshOutcome,
} from "../model/coordinator.js";
import { type BackendLogger, consoleLogger } from "../model/options.js";
import { MemoryCoordinator } from "./memory-coordinator.js";
import {
  type RedisClient,
  type RedisCommands,
  RedisFailure,
  type RedisStore,
  redisStore,
} from "./redis-client.js";

/** Options of {@link RedisCoordinator}. Give exactly one of `client` and `commands`. */
export interface RedisCoordinatorOptions {
  /** An ioredis `Redis` or `Cluster` instance (or any client with its calling convention). */
  client?: RedisClient;
  /** An adapter for other clients (node-redis, Upstash); see {@link RedisCommands}. */
  commands?: RedisCommands;
  /**
   * Secret(s) from which the key encrypting shared outcomes is derived (HKDF-SHA-256), normally
   * your Auth.js secret. With several, the first encrypts and all decrypt, as in Auth.js secret
   * rotation; every instance sharing the Redis must list the secret the others encrypt with.
   * @default the Auth.js config's `secret` (handed over by `withBackend`), else the secrets Auth.js
   * reads from the environment: `AUTH_SECRET_3`, `AUTH_SECRET_2`, `AUTH_SECRET_1`, then
   * `AUTH_SECRET` (or `NEXTAUTH_SECRET`)
   */
  secret?: string | string[];
  /** Prefix of every key (`<prefix>lock:<hash>`, `<prefix>result:<hash>`). @default "authjs-bc:" */
  prefix?: string;
  /**
   * Coordinators with the same scope in one process share their in-process part (refreshes in
   * flight, outcomes already read), so the copies of `auth.ts` that Next.js bundles separately
   * act as one. Give another scope only to a coordinator that must act as a separate instance
   * (e.g. one per Redis server with the same prefix, or tests that model several processes).
   * @default `prefix`
   */
  scope?: string;
  /**
   * How long the refresh lock is held at most, in milliseconds. By default each lock lives as
   * long as the refresh it guards can still answer (the provider's `timeoutMs +
   * lateAnswerLimitMs`, 30 s by default) plus 5 s. A fixed value must exceed that sum (the
   * provider refuses it otherwise): a shorter lock can expire during a slow refresh and let a
   * second instance present the same refresh token, which a strict backend treats as reuse. A
   * crashed lock holder blocks the others for at most this long; they wait, then take over.
   * @default the refresh's longest duration plus 5000
   */
  lockTtlMs?: number;
  /**
   * How often an instance waiting for another's refresh first looks for its result, in
   * milliseconds; the interval then grows by half each time, up to 250 ms.
   * @default 25
   */
  pollIntervalMs?: number;
  /**
   * Timeout of each Redis command, in milliseconds. A command that fails or times out makes that
   * refresh fall back to in-process coordination (with a warning).
   * @default 500
   */
  commandTimeoutMs?: number;
  /**
   * Clock in milliseconds since the epoch, for how long a shared outcome is still valid (its
   * grace window). Waits for another instance use real timers. Give the provider's `now` when
   * you inject one.
   * @default Date.now
   */
  now?: () => number;
  /**
   * Where warnings go (Redis unreachable, undecryptable entries, waits given up). Rate-limited to
   * one per kind per 30 s; they never contain tokens, keys or values.
   * @default console with a `[authjs-backend-credentials]` prefix
   */
  logger?: Pick<BackendLogger, "warn">;
}

/** Most warnings of one kind per this many milliseconds. */
const WARN_INTERVAL_MS = 30_000;
/** How long a waiter waits beyond the lock TTL before giving up, in milliseconds. */
const WAIT_MARGIN_MS = 500;
/** Lock TTL beyond the refresh's longest duration when no fixed `lockTtlMs` is set, in milliseconds. */
const LOCK_MARGIN_MS = 5_000;
/** Lock TTL when neither `lockTtlMs` nor the refresh's limits are known, in milliseconds. */
const FALLBACK_LOCK_TTL_MS = 35_000;
/** Longest interval between two looks for another instance's outcome, in milliseconds. */
const MAX_POLL_INTERVAL_MS = 250;
const UNAVAILABLE: CoordinatedRefresh = { outcome: { kind: "unavailable" }, shareForMs: 0 };

/**
 * Refresh coordination across processes and instances through Redis: one refresh per refresh
 * token across the whole deployment, and its outcome shared with every instance for the
 * `gracePeriodSeconds` the provider asks for. Pass it as `coordination` to every
 * `BackendCredentials` provider that serves the same users.
 *
 * How a refresh for one refresh-token hash runs:
 * 1. In-process single flight: concurrent requests of one process share one Redis round.
 * 2. A shared outcome under `<prefix>result:<hash>` is returned if present.
 * 3. Otherwise `SET <prefix>lock:<hash> NX PX <ttl>`, the TTL covering the whole refresh
 *    including a late answer: the winner refreshes, stores the encrypted outcome, then releases
 *    the lock. The others poll for the outcome, take the lock over if it disappears without one
 *    (its holder crashed), and give up with a transient `unavailable` outcome (the user stays
 *    signed in) after the TTL plus a margin. Nobody refreshes while another instance holds a live
 *    lock. Requests stop waiting after the provider's `timeoutMs`; the poll goes on in the
 *    background, and requests that come later join it.
 *
 * Every `RedisCoordinator` with the same `prefix` in one process shares its in-process part
 * (step 1), so the copies Next.js bundles create of an `auth.ts` act as one.
 *
 * Outcomes hold tokens, so they are encrypted (AES-256-GCM, key derived from `secret`, the Redis
 * key bound as additional data); keys hold only the hash the core computes, never a token. An
 * entry that does not decrypt is treated as absent.
 *
 * If Redis fails or is slower than `commandTimeoutMs`, that refresh is coordinated in-process
 * only and a warning is logged: no request fails and nobody is signed out because of Redis.
 *
 * Invalid options throw a `TypeError` naming the option.
 *
 * @example
 * ```ts
 * import Redis from "ioredis"
 * const coordination = new RedisCoordinator({ client: new Redis(process.env.REDIS_URL!) })
 * BackendCredentials({ baseUrl: process.env.BACKEND_URL!, coordination })
 * ```
 */
export class RedisCoordinator implements RefreshCoordinator {
  /** The fixed lock TTL, in milliseconds, if one was set (see {@link RedisCoordinatorOptions.lockTtlMs}). */
  readonly lockTtlMs: number | undefined;
  readonly #local: MemoryCoordinator;
  readonly #store: RedisStore;
  /** Sealing under the explicit `secret`, else the adopted Auth.js secret, else the env's. */
  #box: SealedBox | undefined;
  #boxFromOption: boolean;
  readonly #prefix: string;
  readonly #pollIntervalMs: number;
  readonly #now: () => number;
  readonly #logger: Pick<BackendLogger, "warn">;
  readonly #warned = new Map<string, { at: number; suppressed: number }>();

  constructor(options: RedisCoordinatorOptions) {
    if (typeof options !== "object" || options === null) {
      throw new TypeError("RedisCoordinator: options must be an object");
    }
    const { client, commands } = options;
    if ((client === undefined) === (commands === undefined)) {
      throw new TypeError("RedisCoordinator: give exactly one of the options client and commands");
    }
    if (client !== undefined && !hasMethods(client, "set", "get", "del")) {
      throw new TypeError("RedisCoordinator: option client must have set, get and del (ioredis)");
    }
    if (client !== undefined && "isOpen" in client && hasMethods(client, "sendCommand")) {
      // node-redis would read `SET key value PX ms NX` as a plain SET: no TTL, no NX.
      throw new TypeError(
        "RedisCoordinator: option client looks like a node-redis client; pass it through option commands (see RedisCommands)",
      );
    }
    if (commands !== undefined && !hasMethods(commands, "set", "get", "del")) {
      throw new TypeError("RedisCoordinator: option commands must have set, get and del");
    }
    const owner = "RedisCoordinator";
    const lockTtlMs = positive(owner, "lockTtlMs", options.lockTtlMs, undefined);
    this.lockTtlMs = lockTtlMs === undefined ? undefined : Math.ceil(lockTtlMs);
    this.#pollIntervalMs = Math.ceil(positive(owner, "pollIntervalMs", options.pollIntervalMs, 25));
    const commandTimeoutMs = Math.ceil(
      positive(owner, "commandTimeoutMs", options.commandTimeoutMs, 500),
    );
    this.#now = optionalFunction(owner, "now", options.now) ?? Date.now;
    this.#store = redisStore(client ? { client } : { commands: commands! }, commandTimeoutMs);
    this.#boxFromOption = options.secret !== undefined;
    this.#box =
      options.secret === undefined ? undefined : sealedBox(resolveSecrets(options.secret));
    const prefix = options.prefix ?? "authjs-bc:";
    if (typeof prefix !== "string") throw optionError(owner, "prefix", "a string");
    this.#prefix = prefix;
    const scope = nonEmptyString(owner, "scope", options.scope ?? prefix);
    this.#local = new MemoryCoordinator({ scope: `redis:${scope}` });
    const logger = options.logger ?? consoleLogger;
    if (typeof logger.warn !== "function") {
      throw new TypeError("RedisCoordinator: option logger must have a warn(message) method");
    }
    this.#logger = logger;
  }

  run(
    key: string,
    refresh: () => Promise<CoordinatedRefresh>,
    limits?: RefreshLimits,
  ): Promise<RefreshOutcome> {
    const lockTtlMs =
      this.lockTtlMs ??
      (limits ? Math.ceil(limits.maxDurationMs) + LOCK_MARGIN_MS : FALLBACK_LOCK_TTL_MS);
    return this.#local.run(key, () => this.#coordinate(key, refresh, lockTtlMs));
  }

  async peek(key: string): Promise<RefreshOutcome | undefined> {
    const local = await this.#local.peek(key);
    if (local) return local;
    try {
      return (await this.#read(key))?.outcome;
    } catch (error) {
      if (!(error instanceof RedisFailure)) throw error;
      this.#warn("redis", `${error.message}; shared outcomes are not visible to this instance`);
      return undefined;
    }
  }

  async #coordinate(
    key: string,
    refresh: () => Promise<CoordinatedRefresh>,
    lockTtlMs: number,
  ): Promise<CoordinatedRefresh> {
    const lockKey = `${this.#prefix}lock:${key}`;
    const deadline = Date.now() + lockTtlMs + WAIT_MARGIN_MS;
    let pollMs = this.#pollIntervalMs;
    let sawForeignLock = false;
    try {
      for (;;) {
        const shared = await this.#read(key);
        if (shared) return shared;
        const owner = crypto.randomUUID();
        if (await this.#store.setIfAbsent(lockKey, owner, lockTtlMs)) {
          return await this.#refreshHoldingLock(key, lockKey, owner, refresh);
        }
        sawForeignLock = true;
        if (Date.now() + pollMs > deadline) {
          this.#warn(
            "wait",
            `gave up waiting ${lockTtlMs + WAIT_MARGIN_MS} ms for another instance's refresh (is lockTtlMs shorter than the refresh timeout?)`,
          );
          return UNAVAILABLE;
        }
        // Unref'd: a poll nobody waits for any more must not hold the process open.
        await new Promise((resolve) => setTimeout(resolve, pollMs).unref?.());
        if (pollMs < MAX_POLL_INTERVAL_MS) {
          pollMs = Math.min(MAX_POLL_INTERVAL_MS, Math.ceil(pollMs * 1.5));
        }
      }
    } catch (error) {
      if (!(error instanceof RedisFailure)) throw error;
      this.#warn("redis", `${error.message}; coordinating refreshes in this process only`);
      // Another instance may hold a live lock: refreshing now could present a token it is
      // rotating. Report a transient failure instead; the next request tries again.
      if (sawForeignLock) return UNAVAILABLE;
      const result = await refresh();
      // Redis may only be slow, and a timed-out SET NX may have taken the lock after all: publish
      // the outcome in the background so that instances waiting on it do not refresh again.
      if (result.shareForMs > 0) this.#write(key, result).catch(() => {});
      return result;
    }
  }

  async #refreshHoldingLock(
    key: string,
    lockKey: string,
    owner: string,
    refresh: () => Promise<CoordinatedRefresh>,
  ): Promise<CoordinatedRefresh> {
    // The previous holder may have stored its outcome and released the lock between our GET and
    // our SET NX: look again, or we would present the refresh token it just rotated.
    let shared: CoordinatedRefresh | undefined;
    try {
      shared = await this.#read(key);
    } catch (error) {
      if (!(error instanceof RedisFailure)) throw error;
      this.#warn("redis", `${error.message}; refreshing without checking for a shared outcome`);
    }
    if (shared) {
      await this.#release(lockKey, owner);
      return shared;
    }
    let result: CoordinatedRefresh;
    try {
      result = await refresh();
    } catch (error) {
      await this.#release(lockKey, owner);
      throw error;
    }
    if (result.shareForMs > 0) {
      try {
        await this.#write(key, result);
      } catch (error) {
        if (!(error instanceof RedisFailure)) throw error;
        // Keep the lock until it expires: releasing it without an outcome would let another
        // instance present the refresh token we have just rotated.
        this.#warn("redis", `${error.message}; the outcome is shared in this process only`);
        return result;
      }
    }
    await this.#release(lockKey, owner);
    return result;
  }

  /**
   * Takes the Auth.js config's secret(s) when no `secret` option was given (`withBackend` calls
   * this with `config.secret`), so one secret serves both. An explicit `secret` is kept.
   */
  adoptAuthSecret(secrets: readonly string[]): void {
    if (this.#boxFromOption || secrets.length === 0) return;
    if (secrets.some((secret) => typeof secret !== "string" || secret === "")) return;
    this.#box = sealedBox([...secrets]);
  }

  /** The sealing in use, set up from the environment's Auth.js secrets on first use if needed. */
  #sealing(): SealedBox {
    if (!this.#box) {
      const secrets = authSecrets();
      if (secrets.length === 0) {
        throw new TypeError(
          "RedisCoordinator: no secret: give option secret, set AUTH_SECRET, or use the coordinator through withBackend with config.secret",
        );
      }
      this.#box = sealedBox(secrets);
    }
    return this.#box;
  }

  async #read(key: string): Promise<CoordinatedRefresh | undefined> {
    const resultKey = `${this.#prefix}result:${key}`;
    const sealed = await this.#store.get(resultKey);
    if (sealed === null) return undefined;
    const entry = parseEntry(await this.#sealing().open(sealed, resultKey));
    if (!entry) {
      this.#warn("decrypt", "ignored a shared outcome that does not decrypt with the secret");
      return undefined;
    }
    // Redis expires the key on its own; the sealed deadline also rejects a replayed old entry.
    const remaining = entry.until - this.#now();
    return remaining > 0 ? { outcome: entry.outcome, shareForMs: remaining } : undefined;
  }

  async #write(key: string, { outcome, shareForMs }: CoordinatedRefresh): Promise<void> {
    const resultKey = `${this.#prefix}result:${key}`;
    const ttlMs = Math.ceil(shareForMs);
    const sealed = await this.#sealing().seal(
      JSON.stringify({ outcome, until: this.#now() + ttlMs } satisfies Entry),
      resultKey,
    );
    await this.#store.set(resultKey, sealed, ttlMs);
  }

  async #release(lockKey: string, owner: string): Promise<void> {
    try {
      await this.#store.deleteIfEquals(lockKey, owner);
    } catch (error) {
      if (!(error instanceof RedisFailure)) throw error;
      this.#warn("redis", `${error.message}; the refresh lock expires on its own`);
    }
  }

  /** Logs at most one warning per kind per {@link WARN_INTERVAL_MS}, counting the others. */
  #warn(kind: string, message: string): void {
    const now = Date.now();
    const last = this.#warned.get(kind);
    if (last && now - last.at < WARN_INTERVAL_MS) {
      last.suppressed++;
      return;
    }
    const suppressed = last?.suppressed ? ` (${last.suppressed} similar warnings suppressed)` : "";
    this.#warned.set(kind, { at: now, suppressed: 0 });
    this.#logger.warn(`RedisCoordinator: ${message}${suppressed}`);
  }
}

/** What is stored (encrypted) under `<prefix>result:<hash>`. */
interface Entry {
  outcome: RefreshOutcome;
  /** End of the sharing window, milliseconds since the epoch. */
  until: number;
}

function parseEntry(plaintext: string | undefined): Entry | undefined {
  if (plaintext === undefined) return undefined;
  try {
    const entry = JSON.parse(plaintext) as Partial<Entry> | null;
    const kind = entry?.outcome?.kind;
    if (typeof entry?.until !== "number") return undefined;
    if (kind !== "rotated" && kind !== "rejected" && kind !== "unavailable") return undefined;
    return entry as Entry;
  } catch {
    return undefined;
  }
}

function resolveSecrets(option: string | string[]): string[] {
  const secrets = [option].flat();
  if (secrets.length === 0 || secrets.some((secret) => typeof secret !== "string" || !secret)) {
    throw new TypeError(
      "RedisCoordinator: option secret must be a non-empty string or array of them",
    );
  }
  return secrets;
}

function hasMethods(value: unknown, ...names: string[]): boolean {
  return (
    typeof value === "object" &&
    value !== null &&
    names.every((name) => typeof (value as Record<string, unknown>)[name] === "function")
  );
}
