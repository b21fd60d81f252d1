import { randomUUID } from "node:crypto";
import { Auth, type AuthConfig } from "@auth/core";
import { decode, type JWT } from "@auth/core/jwt";
import type { Session } from "@auth/core/types";
import { onTestFinished } from "vitest";
import { type Backend, type BackendOptions, startBackend } from "../example-app/backend/server.mjs";
import {
  BackendCredentials,
  type BackendCredentialsOptions,
  type BackendEvents,
  type BackendLogger,
  MemoryCoordinator,
  withBackend,
} from "../src/index.js";

export const SECRET = "test-secret-at-least-32-characters-long!!";
export const ORIGIN = "http://localhost:3000";
export const SESSION_COOKIE = "authjs.session-token";

/** A logger that records every line, so tests can assert on what was (not) logged. */
export function recordingLogger(): BackendLogger & { lines: string[] } {
  const lines: string[] = [];
  return {
    lines,
    warn: (message) => lines.push(`warn ${message}`),
    error: (message, error) =>
      lines.push(`error ${message}${error instanceof Error ? ` ${error.message}` : ""}`),
  };
}

/**
 * A clock shared by the library and the reference backend: `advance` moves both, so token
 * expiry can be reached without waiting.
 */
export function sharedClock(backend: Backend) {
  let offsetMs = 0;
  return {
    now: () => Date.now() + offsetMs,
    advance(seconds: number) {
      offsetMs += seconds * 1000;
      backend.options.clockSkewSeconds += seconds;
    },
  };
}

export interface Harness {
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
    {
      // Auth.js's own log lines go to the same recorder (they would otherwise flood the output).
      logger: {
        error: (error) => logger.lines.push(`authjs-error ${error.name}: ${error.message}`),
        warn: (code) => logger.lines.push(`authjs-warn ${code}`),
        debug: () => {},
      },
      ...authOptions,
    },
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

/** A minimal browser: keeps cookies between requests to the real `Auth()` handler. */
export class AuthClient {
  readonly cookies = new Map<string, string>();

  constructor(
    readonly config: AuthConfig,
    readonly basePath = "/auth",
  ) {}

  /** Sends a request to `Auth()`, storing the response cookies. */
  async request(path: string, init: RequestInit = {}): Promise<Response> {
    const headers = new Headers(init.headers);
    const cookie = this.cookieHeader();
    if (cookie) headers.set("cookie", cookie);
    const response = await Auth(
      new Request(`${ORIGIN}${this.basePath}${path}`, { ...init, headers }),
      this.config,
    );
    this.store(response);
    return response;
  }

  cookieHeader(): string {
    return [...this.cookies].map(([name, value]) => `${name}=${value}`).join("; ");
  }

  store(response: Response): void {
    for (const header of response.headers.getSetCookie()) {
      const [pair = "", ...attributes] = header.split(";");
      const eq = pair.indexOf("=");
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      const expired = attributes.some((attribute) => {
        const [key = "", val = ""] = attribute.trim().split("=");
        if (key.toLowerCase() === "max-age") return Number(val) <= 0;
        if (key.toLowerCase() === "expires") return Date.parse(val) <= Date.now();
        return false;
      });
      if (expired || value === "") this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
  }

  /** Signs in through `POST /auth/callback/credentials` with a CSRF token, like a browser form. */
  async signIn(fields: Record<string, string>, providerId = "backend"): Promise<Response> {
    const csrf = await this.request("/csrf");
    const { csrfToken } = (await csrf.json()) as { csrfToken: string };
    return this.request(`/callback/${providerId}`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ ...fields, csrfToken, callbackUrl: `${ORIGIN}/dashboard` }),
    });
  }

  /** `GET /auth/session` as JSON (`null` when signed out). */
  async session(): Promise<(Session & Record<string, unknown>) | null> {
    const response = await this.request("/session");
    return (await response.json()) as (Session & Record<string, unknown>) | null;
  }

  async signOut(): Promise<Response> {
    const csrf = await this.request("/csrf");
    const { csrfToken } = (await csrf.json()) as { csrfToken: string };
    return this.request("/signout", {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ csrfToken }),
    });
  }

  /** Decrypts the current session cookie (what the server sees), or `null`. */
  async token(): Promise<JWT | null> {
    return decodeSessionCookie(this.cookies.get(SESSION_COOKIE));
  }

  /** An independent copy (another tab or a replayed old cookie). */
  clone(): AuthClient {
    const copy = new AuthClient(this.config, this.basePath);
    for (const [name, value] of this.cookies) copy.cookies.set(name, value);
    return copy;
  }
}

export async function decodeSessionCookie(value: string | undefined): Promise<JWT | null> {
  if (!value) return null;
  return decode({ token: value, secret: SECRET, salt: SESSION_COOKIE });
}

/** The session cookie a response sets, decrypted. */
export async function tokenFromResponse(response: Response): Promise<JWT | null> {
  for (const header of response.headers.getSetCookie()) {
    if (header.startsWith(`${SESSION_COOKIE}=`)) {
      return decodeSessionCookie(header.slice(SESSION_COOKIE.length + 1).split(";")[0]);
    }
  }
  return null;
}

export const ADMIN = { email: "admin@example.com", password: "admin-password" };
export const USER = { email: "user@example.com", password: "user-password" };

/** Records every event, and resolves `next(name)` when an event of that name arrives. */
export function recordingEvents() {
  const seen: Array<{ name: string; event: Record<string, unknown> }> = [];
  const waiting: Array<{ name: string; resolve: () => void }> = [];
  const record =
    (name: keyof BackendEvents) =>
    (event: object): void => {
      seen.push({ name, event: { ...event } });
      for (const waiter of waiting.filter((entry) => entry.name === name)) waiter.resolve();
    };
  const events: Required<BackendEvents> = {
    refreshSucceeded: record("refreshSucceeded"),
    refreshFailed: record("refreshFailed"),
    lateAnswerRecovered: record("lateAnswerRecovered"),
    sessionEnded: record("sessionEnded"),
    logoutFailed: record("logoutFailed"),
  };
  return {
    events,
    seen,
    named: (name: keyof BackendEvents) => seen.filter((entry) => entry.name === name),
    next: (name: keyof BackendEvents) =>
      new Promise<void>((resolve) => waiting.push({ name, resolve })),
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

/** A harness with a signed-in browser (ADMIN) whose provider reports to a recorder of events. */
export async function signedInWithEvents(
  backendOptions: BackendOptions,
  providerOptions: Partial<BackendCredentialsOptions> = {},
) {
  const recorder = recordingEvents();
  const harness = await setup(backendOptions, { events: recorder.events, ...providerOptions });
  const browser = harness.client();
  await browser.signIn(ADMIN);
  return { ...harness, browser, recorder };
}
