import type { AuthConfig } from "@auth/core";
import type { Backend } from "../../example-app/backend/server.mjs";
import type {
  BackendCredentials,
  BackendCredentialsOptions,
  withBackend,
} from "../../src/index.js";
import { SECRET } from "./constants.js";

/** Where the reference backend puts tokens in its current mode. */
function providerDefaultsFor(backend: Backend): BackendCredentialsOptions["tokens"] {
  const { tokenPlacement, bodyShape, fieldCase } = backend.options;
  const prefix = bodyShape === "nested" ? "data." : "";
  const name = (camel: string, snake: string) => prefix + (fieldCase === "snake" ? snake : camel);
  return {
    accessToken:
      tokenPlacement === "cookie"
        ? { cookie: "access_token" }
        : { body: name("accessToken", "access_token") },
    refreshToken:
      tokenPlacement === "body"
        ? { body: name("refreshToken", "refresh_token") }
        : { cookie: "refresh_token" },
  };
}

/**
 * An Auth.js config like an app's, built with the given copy of the library (tests load separate
 * copies to model Next.js bundles) against `backend`, on the shared clock, with quiet loggers
 * unless the options say otherwise.
 */
export function appConfig(
  library: { withBackend: typeof withBackend; BackendCredentials: typeof BackendCredentials },
  backend: Backend,
  clock: { now: () => number },
  providerOptions: Partial<BackendCredentialsOptions> = {},
  authOptions: Partial<AuthConfig> = {},
): AuthConfig {
  return library.withBackend({
    secret: SECRET,
    trustHost: true,
    basePath: "/auth",
    session: { strategy: "jwt" },
    logger: { error: () => {}, warn: () => {}, debug: () => {} },
    providers: [
      library.BackendCredentials({
        baseUrl: backend.url,
        endpoints: { logout: "/auth/logout" },
        tokens: providerDefaultsFor(backend),
        now: clock.now,
        logger: { warn: () => {}, error: () => {} },
        ...providerOptions,
      }),
    ],
    ...authOptions,
  }) as AuthConfig;
}
