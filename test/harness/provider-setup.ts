import { randomUUID } from "node:crypto";
import type { AuthConfig } from "@auth/core";
import {
  BackendCredentials,
  type BackendCredentialsOptions,
  MemoryCoordinator,
  withBackend,
} from "../../src/index.js";
import { AuthClient } from "./auth-client.js";
import { SECRET } from "./constants.js";
import { recordingAuthLogger, recordingLogger } from "./recorders.js";

/**
 * A clock that only the test moves: backoffs and grace windows do not depend on how long a step
 * (a server restart, a slow machine) takes.
 */
function stoppedClock() {
  let now = Date.now();
  return {
    now: () => now,
    /** Moves the clock forward by `seconds`. */
    advance(seconds: number) {
      now += seconds * 1000;
    },
  };
}

/**
 * An Auth.js config using BackendCredentials with `options` against a server the test started
 * (a third-party one, or the hostile backend): on a stopped clock, with its own coordinator and
 * every log line (ours and Auth.js's) recorded.
 */
export function providerSetup(options: BackendCredentialsOptions) {
  const logger = recordingLogger();
  const clock = stoppedClock();
  const config = withBackend({
    secret: SECRET,
    trustHost: true,
    basePath: "/auth",
    session: { strategy: "jwt" },
    logger: recordingAuthLogger(logger),
    providers: [
      BackendCredentials({
        now: clock.now,
        logger,
        coordination: new MemoryCoordinator({ now: clock.now, scope: `test-${randomUUID()}` }),
        ...options,
      }),
    ],
  }) as AuthConfig;
  return { config, logger, clock, client: () => new AuthClient(config) };
}
