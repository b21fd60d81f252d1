/**
 * The test harness: what test/, bench/ and soak/ share to drive the library through the real
 * `Auth()` against the reference backend (example-app/backend). One file a concern; this index
 * only re-exports.
 *
 * Not re-exported: next-app.ts, the Next.js layer (`nextBackend`, `NextRequest`), which the tests
 * of that layer import directly. It loads only under vitest: tsconfig.json maps `next/*` to type
 * declarations, which tsx (bench, soak) would try to run. e2e/ imports constants.ts and ports.ts
 * directly, so that its processes do not load the library.
 */

export { appConfig } from "./app-config.js";
export { AuthClient } from "./auth-client.js";
export { sharedClock } from "./clock.js";
export {
  ADMIN,
  EVALUATOR,
  ORIGIN,
  RETRIED_COOKIE,
  SECRET,
  SESSION_COOKIE,
  USER,
} from "./constants.js";
export { addingSetCookies } from "./fetch-wrappers.js";
export { HOSTILE_USER, hostileSetup } from "./hostile-backend.js";
export { type Instance, spawnInstance, stopInstances } from "./instances.js";
export { listenForTest } from "./loopback.js";
export { recordingLogger } from "./recorders.js";
export { redisForFile, rotatedOutcome } from "./redis-fixture.js";
export { startRedisServer } from "./redis-server.js";
export {
  forwardedCookie,
  locationOf,
  setCookiesNamed,
  setCookieValue,
  signInCode,
  tokenFromResponse,
} from "./responses.js";
export { providerRuntime } from "./runtime.js";
export {
  chunkNames,
  decodeSession,
  decodeSessionCookie,
  refreshTokenOf,
  sessionCookieOf,
} from "./session-cookie.js";
export { setup, signedIn, signedInWithEvents } from "./setup.js";
