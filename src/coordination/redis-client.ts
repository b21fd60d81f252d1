/**
 * The subset of an [ioredis](https://github.com/redis/ioredis) client (`Redis` or `Cluster`) that
 * {@link RedisCoordinator} uses: the positional calling convention `SET key value PX ms NX`.
 * Pass such a client as `client`; for clients with an options object use `commands`.
 */
export interface RedisClient {
  /** `SET key value PX milliseconds`. */
  set(key: string, value: string, px: "PX", milliseconds: number): Promise<unknown>;
  /** `SET key value PX milliseconds NX`; resolves `"OK"` when written, `null` when the key existed. */
  set(key: string, value: string, px: "PX", milliseconds: number, nx: "NX"): Promise<unknown>;
  get(key: string): Promise<string | null>;
  del(key: string): Promise<unknown>;
  /** `EVAL script numKeys ...keys ...args`; used to release the lock atomically when present. */
  eval?(script: string, numKeys: number, ...keysAndArgs: string[]): Promise<unknown>;
}

/**
 * A thin adapter for Redis clients whose `SET` takes an options object. The shape is
 * [Upstash](https://github.com/upstash/redis-js)'s, so an Upstash `Redis` instance can be passed
 * as it is; node-redis v4/v5 needs a few lines:
 *
 * @example
 * ```ts
 * // node-redis (`createClient()`, connected)
 * new RedisCoordinator({
 *   commands: {
 *     set: (key, value, { px, nx }) => client.set(key, value, nx ? { PX: px, NX: true } : { PX: px }),
 *     get: (key) => client.get(key),
 *     del: (key) => client.del(key),
 *     eval: (script, keys, args) => client.eval(script, { keys, arguments: args }),
 *   },
 * })
 * ```
 */
export interface RedisCommands {
  /**
   * `SET key value PX px`, plus `NX` when `nx` is set. Resolves `"OK"` (or `true`) when the
   * value was written and `null` when `NX` kept an existing value.
   */
  set(key: string, value: string, options: { px: number; nx?: true }): Promise<unknown>;
  /** `GET key`: the string value or `null`. */
  get(key: string): Promise<string | null>;
  /** `DEL key`. */
  del(key: string): Promise<unknown>;
  /** Optional `EVAL script keys args`; releases the lock atomically when present. */
  eval?(script: string, keys: string[], args: string[]): Promise<unknown>;
}

/** Deletes KEYS[1] only while it still holds ARGV[1] (the lock owner's random value). */
const RELEASE_SCRIPT =
  'if redis.call("GET", KEYS[1]) == ARGV[1] then return redis.call("DEL", KEYS[1]) else return 0 end';

/** @internal A Redis call failed or timed out. The message names the command, never keys or values. */
export class RedisFailure extends Error {
  override name = "RedisFailure";
}

/**
 * @internal The four operations the coordinator needs, each bounded by a timeout and failing
 * with {@link RedisFailure} only.
 */
export interface RedisStore {
  /** `SET key value NX PX ttlMs`; `true` when written. */
  setIfAbsent(key: string, value: string, ttlMs: number): Promise<boolean>;
  /** `SET key value PX ttlMs`. */
  set(key: string, value: string, ttlMs: number): Promise<void>;
  get(key: string): Promise<string | null>;
  /** Deletes `key` if it still holds `value` (Lua script when the client has `eval`, else GET + DEL). */
  deleteIfEquals(key: string, value: string): Promise<void>;
}

/** @internal Wraps an ioredis-style client or a {@link RedisCommands} adapter. */
export function redisStore(
  backend: { client: RedisClient } | { commands: RedisCommands },
  timeoutMs: number,
): RedisStore {
  const commands = "client" in backend ? fromPositional(backend.client) : backend.commands;
  const call = <T>(command: string, work: () => Promise<T>) => bounded(command, work, timeoutMs);
  return {
    async setIfAbsent(key, value, ttlMs) {
      const reply = await call("SET NX", () => commands.set(key, value, { px: ttlMs, nx: true }));
      return reply === "OK" || reply === true;
    },
    async set(key, value, ttlMs) {
      await call("SET", () => commands.set(key, value, { px: ttlMs }));
    },
    async get(key) {
      const reply = await call("GET", () => commands.get(key));
      return typeof reply === "string" ? reply : null;
    },
    async deleteIfEquals(key, value) {
      const { eval: evaluate } = commands;
      if (evaluate) {
        await call("EVAL", () => evaluate.call(commands, RELEASE_SCRIPT, [key], [value]));
        return;
      }
      // Not atomic, but safe enough: the lock outlives the refresh it guards, so it cannot have
      // passed to another owner between these two calls unless the TTL is misconfigured.
      if ((await call("GET", () => commands.get(key))) === value) {
        await call("DEL", () => commands.del(key));
      }
    },
  };
}

/** The ioredis calling convention (`SET key value PX ms NX`, `EVAL script numKeys ...`). */
function fromPositional(client: RedisClient): RedisCommands {
  const commands: RedisCommands = {
    set: (key, value, { px, nx }) =>
      nx ? client.set(key, value, "PX", px, "NX") : client.set(key, value, "PX", px),
    get: (key) => client.get(key),
    del: (key) => client.del(key),
  };
  const { eval: evaluate } = client;
  if (typeof evaluate === "function") {
    commands.eval = (script, keys, args) =>
      evaluate.call(client, script, keys.length, ...keys, ...args);
  }
  return commands;
}

async function bounded<T>(command: string, work: () => Promise<T>, timeoutMs: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new RedisFailure(`Redis ${command} timed out after ${timeoutMs} ms`)),
      timeoutMs,
    );
  });
  try {
    return await Promise.race([work(), timeout]);
  } catch (error) {
    if (error instanceof RedisFailure) throw error;
    throw new RedisFailure(`Redis ${command} failed (${describe(error)})`, { cause: error });
  } finally {
    clearTimeout(timer);
  }
}

/**
 * The error's class, `code` and Redis error prefix (`ERR`, `READONLY`, ...). Not the message:
 * some servers echo the command's arguments in it.
 */
function describe(error: unknown): string {
  if (!(error instanceof Error)) return "non-error thrown";
  const code = (error as { code?: unknown }).code;
  const prefix = /^[A-Z]{2,}(?=\s|$)/.exec(error.message)?.[0];
  return [error.name, typeof code === "string" ? code : undefined, prefix]
    .filter(Boolean)
    .join(" ");
}
