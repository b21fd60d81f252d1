import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Tests start real servers; keep output readable and the 2-core machine unsaturated.
    maxWorkers: 2,
  },
});
