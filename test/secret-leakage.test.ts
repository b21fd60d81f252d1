/**
 * Nothing secret leaves the server: the session JSON holds no refresh token or backend cookie
 * (the access token only on request), and no log line, console line or error message holds a
 * token, a password or a backend cookie value.
 */
import { inspect } from "node:util";
import { afterEach, describe, expect, it, vi } from "vitest";
import {
  BackendAuthError,
  type CoordinatedRefresh,
  getBackendAuth,
  RedisCoordinator,
  type RefreshCoordinator,
  type RefreshOutcome,
} from "../src/index.js";
import {
  ADMIN,
  AuthClient,
  addingSetCookies,
  ORIGIN,
  SECRET,
  setup,
  signedIn,
  USER,
} from "./harness/index.js";

afterEach(async () => {
  vi.restoreAllMocks();
});

/** Every string value in a JSON value, at any depth. */
function stringsIn(value: unknown): string[] {
  if (typeof value === "string") return [value];
  if (Array.isArray(value)) return value.flatMap(stringsIn);
  if (typeof value === "object" && value !== null) return Object.values(value).flatMap(stringsIn);
  return [];
}

describe("what the session exposes", () => {
  it("exposeAccessToken: true puts accessToken on the session; the default does not", async () => {
    for (const exposeAccessToken of [false, true]) {
      const harness = await signedIn(
        { tokenPlacement: "mixed" },
        exposeAccessToken ? { exposeAccessToken } : {},
      );
      const { browser } = harness;
      const state = (await browser.token())?.backend;
      const session = await browser.session();
      expect(session?.user?.email).toBe(ADMIN.email);
      if (exposeAccessToken) expect(session?.accessToken).toBe(state?.accessToken);
      else expect(session).not.toHaveProperty("accessToken");
      // Never the refresh token or a backend cookie value, with or without the option.
      const exposed = stringsIn(session);
      for (const cookie of state?.cookies ?? []) expect(exposed).not.toContain(cookie.value);
      expect(JSON.stringify(session)).not.toContain(
        state?.cookies.find((cookie) => cookie.name === "refresh_token")?.value,
      );
      if (!exposeAccessToken) {
        expect(JSON.stringify(session)).not.toContain(state?.accessToken);
      }
      await harness.close();
    }
  });
});

// ---------------------------------------------------------------------------
// No token or backend cookie value in any log line or error message
// ---------------------------------------------------------------------------

/** A `fetch` that remembers every secret crossing the wire to and from the backend. */
function recordingSecrets(secrets: Set<string>, base: typeof fetch = fetch): typeof fetch {
  const fromJson = (text: string) => {
    try {
      collectTokens(JSON.parse(text) as unknown, secrets);
    } catch {
      // not JSON
    }
  };
  return async (input, init) => {
    const headers = new Headers(init?.headers);
    const bearer = headers.get("authorization")?.replace(/^Bearer /, "");
    if (bearer) secrets.add(bearer);
    for (const pair of (headers.get("cookie") ?? "").split("; ")) {
      const value = pair.slice(pair.indexOf("=") + 1);
      if (value) secrets.add(value);
    }
    if (typeof init?.body === "string") fromJson(init.body);
    const response = await base(input, init);
    for (const header of response.headers.getSetCookie()) {
      const pair = header.split(";")[0] ?? "";
      const value = pair.slice(pair.indexOf("=") + 1);
      if (value) secrets.add(value);
    }
    fromJson(await response.clone().text());
    return response;
  };
}

/** `secret` itself when short, else its 16-character windows (every 8 characters, and the tail). */
function fragments(secret: string): string[] {
  if (secret.length <= 16) return [secret];
  const pieces = [secret.slice(-16)];
  for (let at = 0; at + 16 <= secret.length; at += 8) pieces.push(secret.slice(at, at + 16));
  return pieces;
}

/** Adds the values of token-ish and password fields, at any depth. */
function collectTokens(value: unknown, secrets: Set<string>): void {
  if (Array.isArray(value)) for (const item of value) collectTokens(item, secrets);
  if (typeof value !== "object" || value === null) return;
  for (const [key, inner] of Object.entries(value)) {
    if (typeof inner === "string" && inner && /token|password|secret/i.test(key))
      secrets.add(inner);
    else collectTokens(inner, secrets);
  }
}

/** A coordinator that throws once when asked to (the "coordination failed" log site). */
class FailingOnceCoordinator implements RefreshCoordinator {
  failNext = false;
  constructor(private readonly inner: RefreshCoordinator) {}
  run(key: string, refresh: () => Promise<CoordinatedRefresh>): Promise<RefreshOutcome> {
    if (this.failNext) {
      this.failNext = false;
      return Promise.reject(new Error("coordinator exploded"));
    }
    return this.inner.run(key, refresh);
  }
  peek(key: string): Promise<RefreshOutcome | undefined> {
    return this.inner.peek(key);
  }
}

describe("leakage into logs", () => {
  it("no log line, console line or error message contains a token, a password or a backend cookie value (every log site)", async () => {
    const captured: string[] = [];
    for (const method of ["log", "info", "warn", "error", "debug"] as const) {
      vi.spyOn(console, method).mockImplementation((...args: unknown[]) => {
        captured.push(
          `console.${method} ${args.map((arg) => inspect(arg, { depth: 6 })).join(" ")}`,
        );
      });
    }
    const secrets = new Set<string>([ADMIN.password, USER.password, SECRET]);
    const nonce = () => crypto.randomUUID().replaceAll("-", "");
    const extraCookies = () => [
      `authjs.session-token=${nonce()}; Path=/`,
      `bad="${nonce()}; Path=/`,
      `big=${nonce().repeat(140)}; Path=/`,
      `pref=${nonce()}; Expires=Wed, 21 Oct 2037 07:28:00 GMT; Path=/`,
    ];
    // Redis is down for this whole scenario: every refresh falls back to in-process coordination.
    const redisDown = {
      set: () => Promise.reject(new Error("connect ECONNREFUSED 127.0.0.1:6390")),
      get: () => Promise.reject(new Error("connect ECONNREFUSED 127.0.0.1:6390")),
      del: () => Promise.reject(new Error("connect ECONNREFUSED 127.0.0.1:6390")),
    };
    const coordination = new FailingOnceCoordinator(
      new RedisCoordinator({ commands: redisDown, secret: SECRET, commandTimeoutMs: 100 }),
    );
    const harness = await setup(
      { accessTokenTtlSeconds: 600, tokenPlacement: "mixed" },
      {
        endpoints: { logout: "/auth/logout", profile: "/users/me" },
        // The default logger (console), spied above.
        logger: undefined,
        timeoutMs: 300,
        coordination,
        fetch: recordingSecrets(secrets, addingSetCookies("/auth/login", extraCookies)),
      },
      {
        // Auth.js's own logger, with causes and stacks as a default logger would print them.
        logger: {
          error: (error) => captured.push(`authjs.error ${inspect(error, { depth: 6 })}`),
          warn: (code) => captured.push(`authjs.warn ${code}`),
          debug: (message, metadata) =>
            captured.push(`authjs.debug ${message} ${inspect(metadata, { depth: 6 })}`),
        },
      },
    );
    const { backend, clock, config } = harness;
    const browsers: AuthClient[] = [];
    const signInBrowser = async () => {
      const browser = harness!.client();
      browsers.push(browser);
      const response = await browser.signIn(ADMIN);
      captured.push(`location ${response.headers.get("location")}`);
      return browser;
    };
    const capture = async (response: Response) => {
      captured.push(`location ${response.headers.get("location")}`);
      captured.push(`body ${await response.clone().text()}`);
    };
    const errorMessage = async (promise: Promise<unknown>) => {
      const error = await promise.then(
        () => undefined,
        (caught: unknown) => caught,
      );
      expect(error).toBeInstanceOf(BackendAuthError);
      captured.push(`thrown ${inspect(error, { depth: 6 })}`);
    };
    /** A fresh session whose next refresh meets `fault`. */
    const refreshWith = async (fault?: Parameters<typeof backend.injectFault>[1]) => {
      const browser = await signInBrowser();
      clock.advance(590);
      if (fault) backend.injectFault("refresh", fault);
      const response = await browser.request("/session");
      await capture(response);
      return { browser, session: (await response.json()) as { error?: string } | null };
    };

    // Sign-in: ok (with rejected and oversized backend cookies), refused, unavailable, misconfigured.
    await signInBrowser();
    const failures: Array<Parameters<typeof backend.injectFault>[1] | "wrong-password"> = [
      "wrong-password",
      { status: 503 },
      { delayMs: 600 },
      { status: 302, headers: { Location: "/elsewhere" } },
      { status: 200, body: "<html>not json</html>" },
      { status: 200, body: { user: { id: "1" } } },
    ];
    for (const fault of failures) {
      const browser = new AuthClient(config);
      browsers.push(browser);
      if (fault !== "wrong-password") backend.injectFault("login", fault);
      const response = await browser.signIn(
        fault === "wrong-password" ? { ...ADMIN, password: "wrong" } : ADMIN,
      );
      await capture(response);
    }
    backend.injectFault("me", { status: 500 });
    await capture(await new AuthClient(config).signIn(ADMIN));

    // Refresh: ok (with a rejected cookie), transient, timed out, unreadable, rejected.
    await refreshWith({ headers: { "Set-Cookie": `__Host-authjs.csrf-token=${nonce()}; Path=/` } });
    await refreshWith({ status: 503 });
    await refreshWith({ drop: true });
    await refreshWith({ delayMs: 600, drop: true });
    await refreshWith({ status: 200, body: "oops" });
    const rejected = await refreshWith({ status: 401, body: { error: "invalid_grant" } });
    coordination.failNext = true;
    const coordinationFailed = await refreshWith();
    expect(coordinationFailed.session?.error).toBe("RefreshUnavailable");

    // Logout: the backend fails, and a session ended earlier.
    const leaving = await signInBrowser();
    backend.injectFault("logout", { status: 500 });
    await capture(await leaving.signOut());
    const dropped = await signInBrowser();
    backend.injectFault("logout", { drop: true });
    await capture(await dropped.signOut());

    // Server-side helper errors, and a tampered cookie.
    const requestOf = (browser: AuthClient) =>
      new Request(`${ORIGIN}/x`, { headers: { cookie: browser.cookieHeader() } });
    await errorMessage(getBackendAuth(config, requestOf(rejected.browser)));
    await errorMessage(getBackendAuth(config, new Request(`${ORIGIN}/x`)));
    const tampered = await signInBrowser();
    for (const [name, value] of tampered.cookies) tampered.cookies.set(name, value.slice(0, -9));
    await capture(await tampered.request("/session"));

    // Every session JWT we issued, decoded: its tokens and cookies are secrets too.
    for (const browser of browsers) {
      const state = (await browser.token().catch(() => null))?.backend;
      if (!state) continue;
      for (const value of [state.accessToken, state.refreshToken]) if (value) secrets.add(value);
      for (const cookie of state.cookies) secrets.add(cookie.value);
    }
    for (const request of backend.requests) {
      for (const value of Object.values(request.cookies)) if (value) secrets.add(value);
    }

    // The scenario reached every log site.
    const expectedSites = [
      /ignored backend cookie "authjs\.session-token": ReservedName/,
      /ignored backend cookie "bad": InvalidValue/,
      /ignored backend cookie "__Host-authjs\.csrf-token": ReservedName/,
      /backend cookie "big" exceeds 4096 bytes/,
      /login: backend answered 503/,
      /login: POST \/auth\/login timed out after 300 ms/,
      /login: POST \/auth\/login answered 302, a redirect to/,
      /login: \/auth\/login response is not JSON/,
      /login: \/auth\/login response has no access token/,
      /profile: profile endpoint answered 500/,
      /refresh: backend answered 503; will retry/,
      /refresh: POST \/auth\/refresh failed \(network error\)/,
      /refresh: no answer within 300 ms; the user stays signed in/,
      /refresh: \/auth\/refresh response is not JSON/,
      /refresh: backend rejected the refresh token \(401 invalid_grant\); session ended/,
      /refresh coordination failed/,
      /RedisCoordinator: Redis GET failed/,
      /logout: backend answered 500/,
      /logout: POST \/auth\/logout failed \(network error\)/,
      /CredentialsSignin/,
      /JWTSessionError/,
      /thrown BackendAuthError: the backend session has ended/,
    ];
    const all = captured.join("\n");
    for (const site of expectedSites) expect(all).toMatch(site);

    const checked = [...secrets].filter((secret) => secret.length >= 4);
    expect(checked.length).toBeGreaterThan(40);
    // Whole values, and any 16-character piece of longer ones (a logged prefix is a leak too).
    const pieces = new Set(checked.flatMap(fragments));
    for (const line of captured) {
      for (const piece of pieces) {
        if (line.includes(piece)) expect.fail(`a secret's piece appears in: ${line.slice(0, 300)}`);
      }
    }
  });
});
