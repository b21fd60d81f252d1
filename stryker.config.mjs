// Mutation testing of the core (session policy, token responses, cookies, redirects,
// coordination): `npm run mutate`. Not part of `npm test`: a full run takes long on 2 cores.
// One file: `npm run mutate -- --mutate src/lib/redirects.ts`; one worker: `--concurrency 1`.
export default {
  testRunner: "vitest",
  vitest: { configFile: "vitest.mutate.config.ts" },
  coverageAnalysis: "perTest",
  mutate: [
    // Session policy: when to refresh, what a stored session means, profile revalidation.
    "src/session/refresh.ts",
    "src/session/state.ts",
    "src/session/revalidate.ts",
    // Token responses: tokens and expiries from bodies, cookies and JWT claims.
    "src/session/token-response.ts",
    // Cookies: the backend's cookie jar, the session cookie, its JWT, its size budget.
    "src/session/cookie-jar.ts",
    "src/session/session-cookie.ts",
    "src/session/session-jwt.ts",
    "src/session/budget.ts",
    // Redirects.
    "src/lib/redirects.ts",
    // Coordination: single flight and the grace cache, in memory and in Redis (sealed).
    "src/coordination/memory-coordinator.ts",
    "src/coordination/redis-coordinator.ts",
    "src/lib/sealed-box.ts",
  ],
  // Module-level constants run once per test file, not per test: mutating them needs whole-suite
  // runs per mutant. Their values are pinned by behaviour tests; skip them (reported as ignored).
  ignoreStatic: true,
  // No typescript-checker: it type-checks every mutant and would multiply the run time.
  concurrency: 2,
  reporters: ["clear-text", "progress", "json", "html"],
  jsonReporter: { fileName: "reports/mutation/mutation.json" },
  htmlReporter: { fileName: "reports/mutation/mutation.html" },
  incremental: true,
  incrementalFile: "reports/stryker-incremental.json",
  tempDirName: ".stryker-tmp",
  // The sandbox needs src/, test/, docs/ (backend-recipes), examples/ and example-app/backend/.
  ignorePatterns: [
    "/dist",
    "/e2e",
    "/bench",
    "/soak",
    "/reports",
    "/test-results",
    "/example-app/app",
    "**/__pycache__",
    "*.tgz",
  ],
  // The tests start real servers and child processes: give slow mutants room on a busy machine.
  timeoutMS: 5_000,
  dryRunTimeoutMinutes: 10,
};
