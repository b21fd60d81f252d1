/**
 * The unit and integration tests as `npm run mutate` (StrykerJS, stryker.config.mjs) runs them:
 * vitest.config.ts less the tests no mutant can fail: those that import nothing of src/ (packaging,
 * docs, test harness; package.test.ts would also build dist/ and run npm pack and tsc) and those
 * whose subject runs in child processes (below).
 */
import { configDefaults, defineConfig, mergeConfig } from "vitest/config";
import base from "./vitest.config.js";

export default mergeConfig(
  base,
  defineConfig({
    test: {
      // Stryker switches mutants at run time, so modules need not be re-imported for every run.
      isolate: false,
      exclude: [
        ...configDefaults.exclude,
        "test/package.test.ts",
        "test/reliability-table.test.ts",
        "test/counting-proxy.test.ts",
        // Child processes: a mutant is only active in this process, so tests whose subject runs
        // in spawned Node.js instances or a Django server cannot kill it, only slow every run
        // that they cover. The core they reach is covered in-process (redis.test.ts, redis-coordinator.test.ts,
        // rotation.test.ts, backend-quirks.test.ts).
        "test/process-coordination.test.ts",
        "test/redis-instances.test.ts",
        "test/django-simplejwt.test.ts",
      ],
    },
  }),
);
