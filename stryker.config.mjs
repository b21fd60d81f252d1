// Mutation testing of the core (session policy, token responses, cookies, redirects,
// coordination): `npm run mutate`. Not part of `npm test`: a full run takes long on 2 cores.
// One file: `npm run mutate -- --mutate src/lib/redirects.ts`; one worker: `--concurrency 1`.
export default {
  testRunner: "vitest",
  vitest: { configFile: "vitest.mutate.config.ts" },
  coverageAnalysis: "perTest",
  mutate: [
    "src/session/**/*.ts",
    "src/coordination/**/*.ts",
    "src/lib/redirects.ts",
    "src/lib/sealed-box.ts",
    "src/lib/json-path.ts",
    "!src/**/index.ts",
  ],
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
  timeoutMS: 10_000,
  dryRunTimeoutMinutes: 10,
};
