/**
 * The unit and integration tests as `npm run mutate` (StrykerJS, stryker.config.mjs) runs them:
 * vitest.config.ts less the tests that import nothing of src/ (packaging, docs, test harness), so
 * no mutant can fail them. package.test.ts would also build dist/ and run npm pack and tsc.
 */
import { configDefaults, defineConfig, mergeConfig } from "vitest/config";
import base from "./vitest.config.js";

export default mergeConfig(
  base,
  defineConfig({
    test: {
      exclude: [
        ...configDefaults.exclude,
        "test/package.test.ts",
        "test/reliability-table.test.ts",
        "test/counting-proxy.test.ts",
      ],
    },
  }),
);
