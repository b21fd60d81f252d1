/**
 * A Next.js app's view of the reference backend: `nextBackend` with a signed-in browser, requests
 * as Next.js hands them to the proxy and route handlers, and next-auth's `signIn` stand-in.
 */
import { randomUUID } from "node:crypto";
import type { AuthConfig } from "@auth/core";
import { NextRequest } from "next/server";
import { onTestFinished } from "vitest";
import { type BackendOptions, startBackend } from "../../example-app/backend/server.mjs";
import {
  BackendCredentials,
  type BackendCredentialsOptions,
  MemoryCoordinator,
} from "../../src/index.js";
import { type NextBackendOptions, nextBackend } from "../../src/next/index.js";
import { staleMarker } from "../../src/next/stale-marker.js";
import { AuthClient } from "./auth-client.js";
import { sharedClock } from "./clock.js";
import { ADMIN, ORIGIN, SECRET } from "./constants.js";
import { recordingAuthLogger, recordingLogger } from "./recorders.js";
import { signInCode } from "./responses.js";

/**
 * `nextBackend` over a reference backend (600 s access tokens, mixed placement), plus a browser
 * signed in as ADMIN. Call it inside a test: the backend is closed when the test finishes.
 */
export async function nextApp(
  backendOptions: BackendOptions = {},
  providerOptions: Partial<BackendCredentialsOptions> = {},
  nextOptions: NextBackendOptions = {},
) {
  const backend = await startBackend({
    accessTokenTtlSeconds: 600,
    tokenPlacement: "mixed",
    ...backendOptions,
  });
  onTestFinished(() => backend.close());
  const clock = sharedClock(backend);
  const logger = recordingLogger();
  const config: AuthConfig = {
    secret: SECRET,
    trustHost: true,
    basePath: "/api/auth",
    pages: { signIn: "/signin" },
    logger: recordingAuthLogger(logger),
    providers: [
      BackendCredentials({
        baseUrl: backend.url,
        endpoints: { logout: "/auth/logout" },
        tokens: { accessToken: { body: "accessToken" }, refreshToken: { cookie: "refresh_token" } },
        now: clock.now,
        logger,
        coordination: new MemoryCoordinator({ now: clock.now, scope: `test-${randomUUID()}` }),
        ...providerOptions,
      }),
    ],
  };
  const next = nextBackend(config, nextOptions);
  const browser = new AuthClient(next.authConfig(new Request(ORIGIN)), "/api/auth");
  await browser.signIn(ADMIN);
  return { backend, clock, next, browser, logger, config, close: () => backend.close() };
}

/** A request to a Next.js route handler or the proxy, with the browser's cookies. */
export function nextRequest(path: string, cookie: string): NextRequest {
  return new NextRequest(`${ORIGIN}${path}`, { headers: cookie ? { cookie } : {} });
}

/**
 * Stands in for next-auth's `signIn(provider, { redirect: false, ...fields })` from `NextAuth()`:
 * signs `browser` in through the real `Auth()` and throws a `CredentialsSignin`-shaped error on
 * failure, as next-auth does.
 */
export function nextAuthSignIn(browser: AuthClient) {
  return async (provider: string, options: Record<string, unknown>): Promise<void> => {
    const { redirect: _redirect, ...fields } = options;
    const response = await browser.signIn(fields as Record<string, string>, provider);
    const code = signInCode(response);
    if (code) {
      throw Object.assign(new Error("CredentialsSignin"), { type: "CredentialsSignin", code });
    }
  };
}

/**
 * The `stale` marker our own redirects put on refresh- and expired-route URLs for the session
 * `client` holds (an HMAC under the test secret), as `backend.fetch` computes it.
 */
export async function staleOf(client: AuthClient): Promise<string> {
  const state = (await client.token())?.backend;
  if (!state) throw new Error("staleOf: the client holds no session");
  return staleMarker({ secret: SECRET, basePath: "/api/auth", providers: [] }, state);
}
