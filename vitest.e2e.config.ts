import { defineConfig } from "vitest/config";

// Real-browser tests of the example app (`node scripts/e2e.mjs` builds the app first).
export default defineConfig({
  test: {
    include: ["e2e/**/*.e2e.ts"],
    globalSetup: ["e2e/global-setup.ts"],
    // One backend, one `next start`, one browser at a time: the tests assert exact backend counts.
    fileParallelism: false,
    maxWorkers: 1,
    testTimeout: 90_000,
    hookTimeout: 120_000,
    reporters: ["verbose"],
  },
});
