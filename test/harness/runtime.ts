/** A provider runtime for tests of one session rule, built as the provider builds it. */
import type { BackendCredentialsOptions } from "../../src/index.js";
import { resolveOptions } from "../../src/model/options.js";
import { createRuntime } from "../../src/session/runtime.js";
import { recordingLogger } from "./recorders.js";

/**
 * The real `resolveOptions` + `createRuntime` with `options`, on a clock the test sets
 * (`clock.seconds`, unless `options.now` is given), logging to a recorder. No logout endpoint
 * unless `options.endpoints` names one; the base URL answers nothing unless the test gives one.
 */
export function providerRuntime(options: Partial<BackendCredentialsOptions> = {}, seconds = 1000) {
  const clock = { seconds };
  const logger = recordingLogger();
  const runtime = createRuntime(
    {},
    resolveOptions({
      baseUrl: "http://127.0.0.1:9",
      now: () => clock.seconds * 1000,
      logger,
      ...options,
      endpoints: { logout: false, ...options.endpoints },
    }),
  );
  return { runtime, clock, logger };
}
