/**
 * What a stored session means (src/session/state.ts): the clock in seconds, where the access token
 * and the refresh grant are (body or cookie jar, scoped to the refresh endpoint's path, expiry at
 * the injected clock), when a refresh is due (buffer capped at half the lifetime; at expiry
 * without a refresh endpoint), which errors end a session, what an ended session keeps, the event
 * base, and the body that carries the refresh token. One call as the user against a real server.
 */
import { createServer } from "node:http";
import { describe, expect, it } from "vitest";
import type { BackendCredentialsOptions } from "../src/index.js";
import type { BackendSessionError, BackendTokenState } from "../src/model/types.js";
import {
  accessTokenOf,
  callWithSession,
  ended,
  eventBase,
  grantBody,
  isEnded,
  needsRefresh,
  nowSeconds,
  refreshGrantOf,
} from "../src/session/state.js";
import { listenForTest, providerRuntime } from "./harness/index.js";

/** A provider runtime with `options`, on a clock the test sets (`clock.seconds`). */
function runtimeWith(
  options: Partial<BackendCredentialsOptions> = {},
  baseUrl = "http://127.0.0.1:9",
) {
  const { runtime, clock } = providerRuntime({ baseUrl, ...options });
  return { runtime, clock };
}

/** A stored session: tokens received at 1000 s, the access token expiring at 1600 s. */
function sessionState(parts: Partial<BackendTokenState> = {}): BackendTokenState {
  return {
    provider: "backend",
    receivedAt: 1000,
    accessTokenExpiresAt: 1600,
    cookies: [],
    user: { id: "7", name: "Ada", roles: ["admin"] },
    ...parts,
  };
}

/** A real server on 127.0.0.1 that answers every request with the Authorization and Cookie headers it got. */
async function headerEchoServer(): Promise<string> {
  const server = createServer((request, response) => {
    response.writeHead(200, { "content-type": "application/json" });
    response.end(
      JSON.stringify({
        path: request.url,
        authorization: request.headers.authorization ?? null,
        cookie: request.headers.cookie ?? null,
      }),
    );
  });
  return listenForTest(server);
}

describe("nowSeconds", () => {
  it("is the injected clock in seconds, fractions kept", () => {
    const { runtime, clock } = runtimeWith();
    clock.seconds = 1_700_000_000.5;
    expect(nowSeconds(runtime)).toBe(1_700_000_000.5);
  });
});

describe("accessTokenOf", () => {
  it("a body-borne access token wins over a token cookie", () => {
    const { runtime } = runtimeWith({ tokens: { accessToken: { body: "t", cookie: "access" } } });
    const state = sessionState({
      accessToken: "from-body",
      cookies: [{ name: "access", value: "from-cookie", path: "/" }],
    });
    expect(accessTokenOf(runtime, state)).toBe("from-body");
  });

  it("a body-borne access token is used when no token cookie is configured", () => {
    const { runtime } = runtimeWith();
    expect(accessTokenOf(runtime, sessionState({ accessToken: "from-body" }))).toBe("from-body");
  });

  it("a cookie-borne access token is read from the jar until its cookie expires at the injected clock", () => {
    const { runtime, clock } = runtimeWith({ tokens: { accessToken: { cookie: "access" } } });
    const state = sessionState({
      cookies: [{ name: "access", value: "from-cookie", path: "/", expiresAt: 1001 }],
    });
    clock.seconds = 1000;
    expect(accessTokenOf(runtime, state)).toBe("from-cookie");
    clock.seconds = 1001;
    expect(accessTokenOf(runtime, state)).toBeUndefined();
  });

  it("without a body token or a configured token cookie there is none, whatever the jar holds", () => {
    const { runtime } = runtimeWith();
    const state = sessionState({ cookies: [{ name: "accessToken", value: "x", path: "/" }] });
    expect(accessTokenOf(runtime, state)).toBeUndefined();
  });
});

describe("refreshGrantOf", () => {
  const refreshCookie = { tokens: { refreshToken: { cookie: "refresh_token" } } };

  it("a body-borne refresh token is both the grant and its key", () => {
    const { runtime } = runtimeWith();
    expect(refreshGrantOf(runtime, sessionState({ refreshToken: "rt-1" }))).toStrictEqual({
      key: "rt-1",
      token: "rt-1",
    });
  });

  it("a refresh cookie is the one the refresh endpoint would receive: matching path, longest first", () => {
    const { runtime } = runtimeWith(refreshCookie);
    const state = sessionState({
      cookies: [
        { name: "refresh_token", value: "other", path: "/other" },
        { name: "refresh_token", value: "scoped", path: "/auth" },
        { name: "refresh_token", value: "root", path: "/" },
      ],
    });
    expect(refreshGrantOf(runtime, state)).toStrictEqual({ key: "scoped", token: "scoped" });
  });

  it("a refresh cookie only under a path the refresh endpoint is not under: no grant, even with other cookies", () => {
    const { runtime } = runtimeWith(refreshCookie);
    const state = sessionState({
      cookies: [
        { name: "refresh_token", value: "other", path: "/other" },
        { name: "sid", value: "s", path: "/" },
      ],
    });
    expect(refreshGrantOf(runtime, state)).toBeUndefined();
  });

  it("without a refresh endpoint, a refresh cookie under any path is the grant", () => {
    const { runtime } = runtimeWith({ ...refreshCookie, endpoints: { refresh: false } });
    const state = sessionState({
      cookies: [{ name: "refresh_token", value: "anywhere", path: "/other" }],
    });
    expect(refreshGrantOf(runtime, state)).toStrictEqual({ key: "anywhere", token: "anywhere" });
  });

  it("an expired refresh cookie is no grant: at the given time, else at the injected clock", () => {
    const { runtime, clock } = runtimeWith(refreshCookie);
    const state = sessionState({
      cookies: [{ name: "refresh_token", value: "r", path: "/", expiresAt: 2000 }],
    });
    expect(refreshGrantOf(runtime, state, 1999)).toStrictEqual({ key: "r", token: "r" });
    expect(refreshGrantOf(runtime, state, 2000)).toBeUndefined();
    clock.seconds = 1999.5;
    expect(refreshGrantOf(runtime, state)).toStrictEqual({ key: "r", token: "r" });
    clock.seconds = 2000;
    expect(refreshGrantOf(runtime, state)).toBeUndefined();
  });

  it("without a distinct refresh token, the grant is the Cookie header the refresh endpoint receives, and only that", () => {
    const { runtime } = runtimeWith();
    const state = sessionState({
      cookies: [
        { name: "sid", value: "1", path: "/" },
        { name: "csrf", value: "2", path: "/auth" },
        { name: "admin", value: "3", path: "/admin" },
        { name: "stale", value: "4", path: "/", expiresAt: 1000 },
      ],
    });
    expect(refreshGrantOf(runtime, state)).toStrictEqual({ key: "csrf=2; sid=1" });
  });

  it("without a distinct refresh token and no cookie for the refresh endpoint: no grant", () => {
    const { runtime } = runtimeWith();
    const state = sessionState({ cookies: [{ name: "admin", value: "3", path: "/admin" }] });
    expect(refreshGrantOf(runtime, state)).toBeUndefined();
  });

  it("without a refresh endpoint and no refresh token: no grant, whatever cookies are stored", () => {
    const { runtime } = runtimeWith({ endpoints: { refresh: false } });
    const state = sessionState({ cookies: [{ name: "sid", value: "1", path: "/" }] });
    expect(refreshGrantOf(runtime, state)).toBeUndefined();
  });
});

describe("callWithSession", () => {
  it("calls the endpoint with the access token as Bearer and the unexpired cookies for its path", async () => {
    const baseUrl = await headerEchoServer();
    const { runtime } = runtimeWith({ endpoints: { profile: "/me" } }, baseUrl);
    const state = sessionState({
      accessToken: "at-1",
      cookies: [
        { name: "sid", value: "s1", path: "/" },
        { name: "api", value: "a1", path: "/api" },
        { name: "stale", value: "x", path: "/", expiresAt: 1000 },
      ],
    });
    const response = await callWithSession(runtime, runtime.options.profile!, state);
    expect(response.status).toBe(200);
    expect(response.body).toEqual({ path: "/me", authorization: "Bearer at-1", cookie: "sid=s1" });
  });

  it("a cookie-borne access token goes as Bearer too", async () => {
    const baseUrl = await headerEchoServer();
    const { runtime } = runtimeWith(
      { endpoints: { profile: "/me" }, tokens: { accessToken: { cookie: "access" } } },
      baseUrl,
    );
    const state = sessionState({ cookies: [{ name: "access", value: "ck", path: "/" }] });
    const response = await callWithSession(runtime, runtime.options.profile!, state);
    expect(response.body).toEqual({
      path: "/me",
      authorization: "Bearer ck",
      cookie: "access=ck",
    });
  });
});

describe("isEnded", () => {
  const cases: Array<[BackendSessionError | undefined, boolean]> = [
    [undefined, false],
    ["RefreshUnavailable", false],
    ["RefreshTokenRejected", true],
    ["RefreshTokenExpired", true],
    ["AccessTokenExpired", true],
    ["AccessRevoked", true],
  ];
  for (const [error, expected] of cases) {
    it(`a session with error ${error ?? "none"} ${expected ? "has ended" : "goes on"}`, () => {
      expect(isEnded(sessionState(error === undefined ? {} : { error }))).toBe(expected);
    });
  }
});

describe("needsRefresh", () => {
  /** Whether a refresh is due at `seconds` on the runtime's clock. */
  function dueAt(
    runtime: ReturnType<typeof runtimeWith>,
    state: BackendTokenState,
    seconds: number,
  ) {
    runtime.clock.seconds = seconds;
    return needsRefresh(runtime.runtime, state);
  }

  it("with a refresh endpoint, it is due refreshBufferSeconds (60) before expiry, not earlier", () => {
    const setup = runtimeWith();
    const state = sessionState();
    expect(dueAt(setup, state, 1539.999)).toBe(false);
    expect(dueAt(setup, state, 1540)).toBe(true);
  });

  it("the buffer is capped at half the token's lifetime", () => {
    const setup = runtimeWith();
    const state = sessionState({ receivedAt: 1000, accessTokenExpiresAt: 1100 });
    expect(dueAt(setup, state, 1049.999)).toBe(false);
    expect(dueAt(setup, state, 1050)).toBe(true);
  });

  it("a token received after its expiry (a backend clock behind ours) is due at its expiry, not earlier", () => {
    const setup = runtimeWith();
    const state = sessionState({ receivedAt: 2000, accessTokenExpiresAt: 1600 });
    expect(dueAt(setup, state, 1599.999)).toBe(false);
    expect(dueAt(setup, state, 1600)).toBe(true);
  });

  it("with a refresh endpoint, a token of unknown expiry is due at once", () => {
    const setup = runtimeWith();
    expect(dueAt(setup, sessionState({ accessTokenExpiresAt: undefined }), 1000)).toBe(true);
  });

  it("without a refresh endpoint, nothing is due before the token actually expires", () => {
    const setup = runtimeWith({ endpoints: { refresh: false } });
    const state = sessionState();
    expect(dueAt(setup, state, 1599.999)).toBe(false);
    expect(dueAt(setup, state, 1600)).toBe(true);
  });

  it("without a refresh endpoint, a token of unknown expiry counts as expired", () => {
    const setup = runtimeWith({ endpoints: { refresh: false } });
    expect(dueAt(setup, sessionState({ accessTokenExpiresAt: undefined }), 1000)).toBe(true);
  });

  it("an ended session is never due; one whose last refresh failed for a transient reason is", () => {
    const setup = runtimeWith();
    expect(dueAt(setup, sessionState({ error: "RefreshTokenRejected" }), 5000)).toBe(false);
    expect(dueAt(setup, sessionState({ error: "RefreshUnavailable" }), 5000)).toBe(true);
  });
});

describe("ended", () => {
  it("drops tokens, expiries, backend cookies and the profile read time; keeps provider, times and profile; records why", () => {
    const state = sessionState({
      accessToken: "at",
      refreshToken: "rt",
      refreshTokenExpiresAt: 9000,
      refreshTokenField: "refresh_token",
      signedInAt: 900,
      profileReadAt: 950,
      cookies: [{ name: "sid", value: "1", path: "/" }],
      error: "RefreshUnavailable",
    });
    expect(ended(state, "RefreshTokenRejected")).toStrictEqual({
      provider: "backend",
      receivedAt: 1000,
      signedInAt: 900,
      cookies: [],
      user: state.user,
      error: "RefreshTokenRejected",
    });
  });

  it("a session without a sign-in time gets no signedInAt key", () => {
    const result = ended(sessionState(), "AccessRevoked");
    expect(result).toStrictEqual({
      provider: "backend",
      receivedAt: 1000,
      cookies: [],
      user: sessionState().user,
      error: "AccessRevoked",
    });
    expect(Object.keys(result)).not.toContain("signedInAt");
  });
});

describe("eventBase", () => {
  it("names the provider and the user", () => {
    const { runtime } = runtimeWith({ id: "corp" });
    expect(eventBase(runtime, sessionState())).toStrictEqual({ provider: "corp", userId: "7" });
  });

  it("an empty user id is reported as none", () => {
    const { runtime } = runtimeWith();
    const state = sessionState({ user: { id: "", roles: [] } });
    expect(eventBase(runtime, state)).toStrictEqual({ provider: "backend", userId: undefined });
  });
});

describe("grantBody", () => {
  /** A body builder that shows what it was given. */
  const build = (token: string | undefined) => ({ built: token ?? null });

  it("the refresh token goes back in the body field it came in", () => {
    const { runtime } = runtimeWith();
    const state = sessionState({ refreshTokenField: "refresh_token" });
    expect(grantBody(runtime, state, "rt-1", build)).toStrictEqual({ refresh_token: "rt-1" });
  });

  it("without a token, the builder decides", () => {
    const { runtime } = runtimeWith();
    const state = sessionState({ refreshTokenField: "refresh_token" });
    expect(grantBody(runtime, state, undefined, build)).toStrictEqual({ built: null });
  });

  it("without a recorded field, the builder decides", () => {
    const { runtime } = runtimeWith();
    expect(grantBody(runtime, sessionState(), "rt-1", build)).toStrictEqual({ built: "rt-1" });
  });

  it("with a configured refreshTokenTransport, the builder decides even when a field was recorded", () => {
    const { runtime } = runtimeWith({ refreshTokenTransport: { body: "token" } });
    const state = sessionState({ refreshTokenField: "refresh_token" });
    expect(grantBody(runtime, state, "rt-1", build)).toStrictEqual({ built: "rt-1" });
  });
});
