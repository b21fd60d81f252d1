/**
 * Drives the in-memory coordinator with 100,000 distinct refresh tokens (each outcome holding two
 * 800-byte tokens, shared for 30 s, the former default grace period) and reports the RSS growth.
 * Run by bench/run.ts as `node --expose-gc --import tsx bench/rss.ts`.
 */
import { MemoryCoordinator } from "../src/index.js";

const gc = (globalThis as { gc?: () => void }).gc;
const settle = async () => {
  for (let i = 0; i < 3; i++) {
    gc?.();
    await new Promise((resolve) => setImmediate(resolve));
  }
};

const coordinator = new MemoryCoordinator();
const token = (i: number, kind: string) => `${kind}.${i}.`.padEnd(800, "x");
// Warm up the code paths before the baseline reading.
for (let i = 0; i < 1000; i++) {
  await coordinator.run(`warm-${i}`, async () => ({
    outcome: { kind: "unavailable" as const },
    shareForMs: 1,
  }));
}
await settle();
const before = process.memoryUsage().rss;
for (let i = 0; i < 100_000; i++) {
  await coordinator.run(`key-${i}`, async () => ({
    outcome: {
      kind: "rotated" as const,
      accessToken: token(i, "access"),
      refreshToken: token(i, "refresh"),
      accessTokenExpiresAt: 2_000_000_000,
      receivedAt: 1_999_999_100,
      cookies: { set: [], deleted: [] },
    },
    shareForMs: 30_000,
  }));
}
await settle();
const after = process.memoryUsage().rss;
console.log(
  JSON.stringify({
    rssGrowthMB: (after - before) / 2 ** 20,
    entries: coordinator.size,
  }),
);
