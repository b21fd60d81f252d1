import { describe, expect, it } from "vitest";
import type { Backend, BackendOptions } from "../example-app/backend/server.mjs";
import {
  type BackendCredentialsOptions,
  type BackendTokenState,
  type CoordinatedRefresh,
  MemoryCoordinator,
  type RefreshCoordinator,
  type RefreshOutcome,
} from "../src/index.js";
import { signInCode } from "./hardening-helpers.js";
import { ADMIN, type Harness, SESSION_COOKIE, setup, tokenFromResponse } from "./helpers.js";

async function start(
  backend: BackendOptions = {},
  provider: Partial<BackendCredentialsOptions> = {},
): Promise<Harness> {
  const harness = await setup({ accessTokenTtlSeconds: 600, ...backend }, provider);
  return harness;
}

async function signedIn(
  backend: BackendOptions = {},
  provider: Partial<BackendCredentialsOptions> = {},
) {
  const started = await start(backend, provider);
  const browser = started.client();
  await browser.signIn(ADMIN);
  return { ...started, browser, before: (await browser.token())?.backend };
}

const refreshTokenOf = (state: BackendTokenState | undefined) =>
  state?.refreshToken ?? state?.cookies.find((cookie) => cookie.name === "refresh_token")?.value;

/** The refresh token each refresh request presented, in order (body field or cookie). */
function presentedRefreshTokens(backend: Backend): unknown[] {
  return backend.requests
    .filter((request) => request.endpoint === "refresh")
    .map(
      (request) =>
        (request.body as { refreshToken?: unknown } | undefined)?.refreshToken ??
        request.cookies.refresh_token,
    );
}

/** A coordinator that records every outcome a refresh hands it for sharing. */
class RecordingCoordinator implements RefreshCoordinator {
  readonly handed: CoordinatedRefresh[] = [];
  constructor(private readonly inner: RefreshCoordinator) {}
  run(key: string, refresh: () => Promise<CoordinatedRefresh>): Promise<RefreshOutcome> {
    return this.inner.run(key, async () => {
      const result = await refresh();
      this.handed.push(result);
      return result;
    });
  }
  peek(key: string): Promise<RefreshOutcome | undefined> {
    return this.inner.peek(key);
  }
}

describe("login: bad answers from the backend", () => {
  for (const status of [400, 422]) {
    it(`login answered ${status}: InvalidCredentials, nothing stored, no stack trace on the sign-in page`, async () => {
      const { backend, client, logger } = await start();
      backend.injectFault("login", {
        status,
        body: { error: "invalid_request", message: "Detailed backend message for user@x" },
      });
      const browser = client();
      const response = await browser.signIn(ADMIN);
      expect(response.status).toBe(302);
      const location = response.headers.get("location") ?? "";
      expect(location).toContain("error=CredentialsSignin");
      expect(signInCode(response)).toBe("InvalidCredentials");
      expect(location).not.toContain("Detailed");
      expect(browser.cookies.has(SESSION_COOKIE)).toBe(false);
      expect(await browser.session()).toBeNull();

      // The page the user lands on: Auth.js's sign-in page, without internals.
      const page = await browser.request(location.slice(location.indexOf("/signin")));
      expect(page.status).toBe(200);
      const html = await page.text();
      expect(html).not.toMatch(/\bat .+:\d+:\d+/);
      expect(html).not.toMatch(/BackendSignInError|Detailed backend message/);
      expect(logger.lines.join("\n")).not.toMatch(/Detailed backend message/);
    });
  }

  it("login timeout: BackendUnavailable, not a wrong password", async () => {
    const { backend, client } = await start({}, { timeoutMs: 200 });
    backend.injectFault("login", { delayMs: 1_000 });
    const browser = client();
    const response = await browser.signIn(ADMIN);
    expect(signInCode(response)).toBe("BackendUnavailable");
    expect(browser.cookies.has(SESSION_COOKIE)).toBe(false);
  });

  it("login answered 500: BackendUnavailable", async () => {
    const { backend, client } = await start();
    backend.injectFault("login", { status: 500 });
    expect(signInCode(await client().signIn(ADMIN))).toBe("BackendUnavailable");
  });

  it("login response that is not JSON: BackendResponseInvalid, the log says so", async () => {
    const { backend, client, logger } = await start();
    backend.injectFault("login", { status: 200, body: "<html>Welcome!</html>" });
    const browser = client();
    expect(signInCode(await browser.signIn(ADMIN))).toBe("BackendResponseInvalid");
    expect(browser.cookies.has(SESSION_COOKIE)).toBe(false);
    expect(logger.lines).toContain("error login: /auth/login response is not JSON");
  });

  it("login response without an access token: BackendResponseInvalid, the log names the missing token", async () => {
    const { backend, client, logger } = await start();
    backend.injectFault("login", {
      status: 200,
      body: { token_type: "Bearer", user: { id: "1", email: ADMIN.email } },
    });
    const browser = client();
    expect(signInCode(await browser.signIn(ADMIN))).toBe("BackendResponseInvalid");
    expect(browser.cookies.has(SESSION_COOKIE)).toBe(false);
    expect(logger.lines).toContain(
      'error login: /auth/login response has no access token at body "accessToken"',
    );
  });
});

describe("refresh: rejection, backoff and rotation", () => {
  it("refresh answered 403: the session ends and is never refreshed again", async () => {
    const { backend, browser, clock } = await signedIn();
    backend.injectFault("refresh", { status: 403, body: { error: "forbidden" } });
    clock.advance(590);
    const session = await browser.session();
    expect(session?.error).toBe("RefreshTokenRejected");
    expect(session?.accessTokenExpiresAt).toBeUndefined();
    expect((await browser.token())?.backend?.cookies).toEqual([]);
    clock.advance(600);
    for (let i = 0; i < 3; i++) await browser.session();
    expect(backend.stats.refresh).toBe(1);
  });

  it("429 with Retry-After: no backend call before it has passed, a retry after it", async () => {
    const { backend, browser, clock } = await signedIn();
    backend.injectFault("refresh", { status: 429, headers: { "Retry-After": "8" } });
    clock.advance(580); // due, still valid for 20 s
    expect((await browser.session())?.error).toBe("RefreshUnavailable");
    expect(backend.stats.refresh).toBe(1);

    clock.advance(5); // inside Retry-After (the default backoff of 2 s would have passed)
    const waiting = await browser.session();
    expect(waiting?.error).toBe("RefreshUnavailable");
    expect(waiting?.user?.email).toBe(ADMIN.email);
    expect(backend.stats.refresh).toBe(1);

    clock.advance(4); // past Retry-After
    expect((await browser.session())?.error).toBeUndefined();
    expect(backend.stats.refresh).toBe(2);
    expect(backend.stats.refreshSucceeded).toBe(1);
  });

  for (const tokenPlacement of ["body", "cookie", "mixed"] as const) {
    it(`${tokenPlacement}: after a rotation the next refresh sends the new refresh token, never the old one`, async () => {
      const { backend, browser, clock, before } = await signedIn({ tokenPlacement });
      clock.advance(590);
      await browser.session();
      const afterFirst = (await browser.token())?.backend;
      clock.advance(600);
      expect((await browser.session())?.error).toBeUndefined();

      const presented = presentedRefreshTokens(backend);
      expect(presented).toEqual([refreshTokenOf(before), refreshTokenOf(afterFirst)]);
      expect(refreshTokenOf(afterFirst)).not.toBe(refreshTokenOf(before));
      expect(backend.stats.refreshSucceeded).toBe(2);
      expect(backend.stats.reuseDetected).toBe(0);
    });
  }
});

describe("refresh: a response lost after the backend rotated", () => {
  it("lost after rotation: transient first, then the retry meets reuse detection and the session ends", async () => {
    const { backend, browser, clock, before } = await signedIn({ tokenPlacement: "body" });
    backend.injectFault("refresh", { afterRotation: true });
    clock.advance(590);
    const first = await browser.session();
    expect(first?.error).toBe("RefreshUnavailable");
    expect(first?.user?.email).toBe(ADMIN.email);
    expect(backend.stats.refreshSucceeded).toBe(1); // the backend did rotate
    // We still hold the token the backend has just retired: there is nothing else to hold.
    expect((await browser.token())?.backend?.refreshToken).toBe(before?.refreshToken);

    clock.advance(3); // past the transient backoff
    const second = await browser.session();
    expect(backend.stats.reuseDetected).toBe(1);
    expect(second?.error).toBe("RefreshTokenRejected");
    expect(second?.accessTokenExpiresAt).toBeUndefined();
    const state = (await browser.token())?.backend;
    expect(state?.refreshToken).toBeUndefined();
    expect(state?.accessToken).toBeUndefined();
    expect(state?.cookies).toEqual([]);
  });

  for (const [label, fault] of [
    ["lost after rotation", { afterRotation: true }],
    ["unreadable 2xx", { status: 200, body: { user: { id: "1" } } }],
  ] as const) {
    it(`the grace cache never holds a half result (${label}): concurrent and late requests keep their tokens`, async () => {
      const coordination = new RecordingCoordinator(new MemoryCoordinator());
      const { backend, browser, clock, before } = await signedIn(
        { tokenPlacement: "body" },
        { coordination },
      );
      backend.injectFault("refresh", { ...fault, delayMs: 100 });
      clock.advance(590);
      const responses = await Promise.all(
        Array.from({ length: 10 }, () => browser.clone().request("/session")),
      );
      const late = await browser.clone().request("/session"); // after the failure, inside the backoff
      expect(backend.stats.refresh).toBe(1);
      for (const response of [...responses, late]) {
        expect(response.status).toBe(200);
        const session = (await response.clone().json()) as { error?: string } | null;
        expect(session?.error).toBe("RefreshUnavailable");
        const state = (await tokenFromResponse(response))?.backend;
        expect(state?.accessToken).toBe(before?.accessToken);
        expect(state?.refreshToken).toBe(before?.refreshToken);
        expect(state?.accessTokenExpiresAt).toBe(before?.accessTokenExpiresAt);
      }
      // What was handed to the cache: one transient outcome, shared only for the backoff.
      expect(coordination.handed).toEqual([
        { outcome: { kind: "unavailable", retryAfterSeconds: 2 }, shareForMs: 2_000 },
      ]);
    });
  }
});

describe("refresh: chains of rotations", () => {
  it("chain: a late request with the oldest refresh token after two rotations inside the grace window gets the newest tokens", async () => {
    // 20 s access tokens are due 10 s after issue, so two rotations fit in the 30 s grace window.
    const { backend, browser, clock, before } = await signedIn({
      tokenPlacement: "body",
      accessTokenTtlSeconds: 20,
    });
    const oldest = browser.clone();
    clock.advance(15);
    await browser.session();
    const first = (await browser.token())?.backend;
    clock.advance(15);
    await browser.session();
    const newest = (await browser.token())?.backend;
    expect(backend.stats.refreshSucceeded).toBe(2);
    expect(new Set([before?.refreshToken, first?.refreshToken, newest?.refreshToken]).size).toBe(3);

    clock.advance(8); // 23 s after the first rotation: its grace entry is still there
    const late = await oldest.request("/session");
    const lateState = (await tokenFromResponse(late))?.backend;
    expect(backend.stats.refresh).toBe(2);
    expect(lateState?.refreshToken).toBe(newest?.refreshToken);
    expect(lateState?.accessToken).toBe(newest?.accessToken);
    expect(lateState?.receivedAt).toBe(newest?.receivedAt);
    expect(((await late.json()) as { error?: string }).error).toBeUndefined();

    // Both copies carry the newest token: the next rotation is a normal one, no reuse.
    clock.advance(10);
    expect((await oldest.session())?.error).toBeUndefined();
    expect((await browser.session())?.error).toBeUndefined();
    expect(backend.stats.refreshSucceeded).toBe(3);
    expect(backend.stats.reuseDetected).toBe(0);
  });
});

describe("expiry and clock skew", () => {
  for (const expiryStyle of ["expires_at", "expires_at_ms", "expires_in"] as const) {
    it(`${expiryStyle}: a backend clock 2 minutes ahead or behind causes no refresh loop, before or after a rotation`, async () => {
      for (const skew of [120, -120]) {
        const { backend, browser, clock } = await signedIn({
          expiryStyle,
          clockSkewSeconds: skew,
          accessTokenTtlSeconds: 100,
        });
        for (let i = 0; i < 5; i++) await browser.session();
        expect(backend.stats.refresh).toBe(0);
        const session = await browser.session();
        const remaining = (session?.accessTokenExpiresAt ?? 0) - clock.now() / 1000;
        expect(remaining).toBeGreaterThan(95);
        expect(remaining).toBeLessThanOrEqual(102);

        clock.advance(60); // due (50 s buffer: half the lifetime)
        for (let i = 0; i < 5; i++) expect((await browser.session())?.error).toBeUndefined();
        expect(backend.stats.refresh).toBe(1);
        const after = await browser.session();
        expect((after?.accessTokenExpiresAt ?? 0) - clock.now() / 1000).toBeGreaterThan(95);
        await backend.close();
      }
    });
  }
});
