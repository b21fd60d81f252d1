import { randomUUID } from "node:crypto";
/**
 * Helpers shared by the `hardening-*.test.ts` files: real `fetch` wrappers that change what the
 * reference backend answers (the library is never mocked), and readers for chunked session cookies.
 */
import type { AuthConfig } from "@auth/core";
import { decode, type JWT } from "@auth/core/jwt";
import { NextRequest } from "next/server";
import { onTestFinished } from "vitest";
import { type BackendOptions, startBackend } from "../example-app/backend/server.mjs";
import {
  BackendCredentials,
  type BackendCredentialsOptions,
  MemoryCoordinator,
} from "../src/index.js";
import { type NextBackendOptions, nextBackend } from "../src/next/index.js";
import {
  ADMIN,
  AuthClient,
  ORIGIN,
  recordingLogger,
  SECRET,
  SESSION_COOKIE,
  sharedClock,
} from "./helpers.js";

/**
 * A `fetch` that appends `Set-Cookie` headers to the real backend's responses for requests whose
 * path ends with `pathSuffix`, the next `times` times (default: always).
 */
export function addingSetCookies(
  pathSuffix: string,
  setCookies: () => readonly string[],
  times = Number.POSITIVE_INFINITY,
): typeof fetch {
  let remaining = times;
  return async (input, init) => {
    const response = await fetch(input, init);
    const path = new URL(input instanceof Request ? input.url : String(input)).pathname;
    if (!path.endsWith(pathSuffix) || remaining <= 0) return response;
    remaining--;
    const headers = new Headers(response.headers);
    for (const header of setCookies()) headers.append("set-cookie", header);
    return new Response(response.body, { status: response.status, headers });
  };
}

/** The session cookie as Auth.js reads it: the plain cookie, or its chunks `.0`, `.1`, … joined. */
export function sessionCookieOf(client: AuthClient, name = SESSION_COOKIE): string | undefined {
  const chunks = chunkNames(client, name);
  if (chunks.length === 0) return client.cookies.get(name);
  return chunks.map((chunk) => client.cookies.get(chunk)).join("");
}

/** Names of the chunk cookies (`name.0`, `name.1`, …) the client holds, in order. */
export function chunkNames(client: AuthClient, name = SESSION_COOKIE): string[] {
  const pattern = new RegExp(`^${name.replace(/\./g, "\\.")}\\.(\\d+)$`);
  return [...client.cookies.keys()]
    .filter((cookie) => pattern.test(cookie))
    .sort((a, b) => Number(pattern.exec(a)?.[1]) - Number(pattern.exec(b)?.[1]));
}

/** Decrypts the client's (possibly chunked) session cookie with `secret`. */
export async function decodeSession(
  client: AuthClient,
  secret: string | string[] = SECRET,
): Promise<JWT | null> {
  const token = sessionCookieOf(client);
  return token ? decode({ token, secret, salt: SESSION_COOKIE }) : null;
}

/** `code` of a failed Auth.js sign-in redirect (`?error=CredentialsSignin&code=…`). */
export function signInCode(response: Response): string | null {
  const location = response.headers.get("location") ?? "";
  return new URL(location, ORIGIN).searchParams.get("code");
}

/** `Set-Cookie` headers of `response` for cookie `name`. */
export function setCookiesNamed(response: Response, name: string): string[] {
  return response.headers.getSetCookie().filter((header) => header.startsWith(`${name}=`));
}

/**
 * A Next.js app's view of the reference backend: `nextBackend` plus a signed-in browser. Call it
 * inside a test: the backend is closed when the test finishes.
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
    logger: {
      error: (error) => logger.lines.push(`authjs-error ${error.name}: ${error.message}`),
      warn: (code) => logger.lines.push(`authjs-warn ${code}`),
      debug: () => {},
    },
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
