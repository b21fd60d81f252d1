import type { Backend } from "../../example-app/backend/server.mjs";

/**
 * A clock shared by the library and the reference backend: `advance` moves both, so token
 * expiry can be reached without waiting.
 */
export function sharedClock(backend: Backend) {
  let offsetMs = 0;
  return {
    now: () => Date.now() + offsetMs,
    advance(seconds: number) {
      offsetMs += seconds * 1000;
      backend.options.clockSkewSeconds += seconds;
    },
  };
}
