/** Shortest delay between two refresh attempts. */
const MIN_DELAY_MS = 1_000;
/** Longest backoff after attempts that did not refresh. */
const MAX_BACKOFF_MS = 60_000;

/**
 * @internal The last `update()` of `<SessionRefresher/>`: the expiry it was made for and how
 * many consecutive `update()` calls had left that expiry unchanged, including it.
 */
export interface Stall {
  expiresAt?: number;
  count: number;
}

/** @internal Consecutive attempts that did not move `expiresAt` (0 once the expiry changed). */
export function stalledAttempts(stall: Stall, expiresAt: number | undefined): number {
  return stall.expiresAt === expiresAt ? stall.count : 0;
}

/**
 * @internal Milliseconds until the next `update()`: `refreshBeforeSeconds` before expiry (at most
 * half the remaining lifetime), at least 1 s. After `stalled` attempts that did not move the expiry
 * (the server's buffer is shorter than ours, or the backend is unavailable) it backs off
 * exponentially, 2, 4, 8 … capped at 60 s, though never past a still-valid token's expiry.
 */
export function refreshDelayMs(
  expiresAt: number,
  nowSeconds: number,
  refreshBeforeSeconds: number,
  stalled: number,
): number {
  const remainingMs = (expiresAt - nowSeconds) * 1000;
  const leadMs = Math.min(refreshBeforeSeconds * 1000, Math.max(0, remainingMs / 2));
  const backoffMs = Math.min(MAX_BACKOFF_MS, MIN_DELAY_MS * 2 ** stalled);
  return Math.max(
    MIN_DELAY_MS,
    remainingMs - leadMs,
    remainingMs > 0 ? Math.min(backoffMs, remainingMs) : backoffMs,
  );
}
