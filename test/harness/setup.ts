import { randomUUID } from "node:crypto";
import type { AuthConfig } from "@auth/core";
import { onTestFinished } from "vitest";
import {
  type Backend,
  type BackendOptions,
  startBackend,
} from "../../example-app/backend/server.mjs";
import {
  BackendCredentials,
  type BackendCredentialsOptions,
  MemoryCoordinator,
  withBackend,
} from "../../src/index.js";
import { appConfig } from "./app-config.js";
import { AuthClient } from "./auth-client.js";
import { sharedClock } from "./clock.js";
import { ADMIN } from "./constants.js";
import { recordingAuthLogger, recordingEvents, recordingLogger } from "./recorders.js";

interface Harness {
  backend: Backend;
  config: AuthConfig;
  logger: ReturnType<typeof recordingLogger>;
  clock: ReturnType<typeof sharedClock>;
  coordinator: MemoryCoordinator;
  client(): AuthClient;
  close(): Promise<void>;
}

/**
 * Starts a reference backend and an Auth.js config using BackendCredentials against it. Call it
 * inside a test: the backend is closed when the test finishes (`close()` may end it earlier).
 */
export async function setup(
  backendOptions: BackendOptions = {},
  providerOptions: Partial<BackendCredentialsOptions> = {},
  authOptions: Partial<AuthConfig> = {},
): Promise<Harness> {
  const backend = await startBackend(backendOptions);
  onTestFinished(() => backend.close());
  const logger = recordingLogger();
  const clock = sharedClock(backend);
  const coordinator = new MemoryCoordinator({ now: clock.now, scope: `test-${randomUUID()}` });
  const config = appConfig(
    { withBackend, BackendCredentials },
    backend,
    clock,
    { logger, coordination: coordinator, ...providerOptions },
    { logger: recordingAuthLogger(logger), ...authOptions },
  );
  return {
    backend,
    config,
    logger,
    clock,
    coordinator,
    client: () => new AuthClient(config),
    close: () => backend.close(),
  };
}

/**
 * {@link setup} with a browser signed in as ADMIN (`response` is the sign-in's, `before` the
 * backend state it stored). Access tokens live 600 s unless `backendOptions` says otherwise.
 */
export async function signedIn(
  backendOptions: BackendOptions = {},
  providerOptions: Partial<BackendCredentialsOptions> = {},
  authOptions: Partial<AuthConfig> = {},
) {
  const harness = await setup(
    { accessTokenTtlSeconds: 600, ...backendOptions },
    providerOptions,
    authOptions,
  );
  const browser = harness.client();
  const response = await browser.signIn(ADMIN);
  return { ...harness, browser, response, before: (await browser.token())?.backend };
}

/** {@link signedIn}, with a provider that reports to a recorder of events. */
export async function signedInWithEvents(
  backendOptions: BackendOptions,
  providerOptions: Partial<BackendCredentialsOptions> = {},
) {
  const recorder = recordingEvents();
  const harness = await signedIn(backendOptions, { events: recorder.events, ...providerOptions });
  return { ...harness, recorder };
}
