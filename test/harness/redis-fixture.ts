/** What the Redis test files share: one redis-server per file, its clients, an outcome to share. */
import { Redis } from "ioredis";
import { afterAll, beforeAll } from "vitest";
import type { RefreshOutcome } from "../../src/index.js";
import { type RedisServer, startRedisServer } from "./redis-server.js";

/**
 * Starts a redis-server before the file's tests and stops it after them, with every client
 * `connect` opened. Call at the top level of a test file.
 */
export function redisForFile() {
  const clients: Redis[] = [];
  let server: RedisServer | undefined;
  beforeAll(async () => {
    server = await startRedisServer();
  });
  afterAll(async () => {
    for (const client of clients) client.disconnect();
    await server?.stop();
  });
  const started = () => {
    if (!server) throw new Error("redisForFile: the server starts in beforeAll");
    return server;
  };
  return {
    get port() {
      return started().port;
    },
    /** An ioredis client on `port` (default: this file's server); errors are not logged. */
    connect(port = started().port): Redis {
      const client = new Redis(port, "127.0.0.1");
      client.on("error", () => {});
      clients.push(client);
      return client;
    },
  };
}

/** A rotation outcome whose tokens are named after `name`. */
export const rotatedOutcome = (name: string): RefreshOutcome => ({
  kind: "rotated",
  accessToken: `access-${name}`,
  refreshToken: `refresh-${name}`,
  accessTokenExpiresAt: 2_000_000_000,
  receivedAt: 1_900_000_000,
  cookies: { set: [], deleted: [] },
});
