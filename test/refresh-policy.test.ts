/**
 * Pins the session policy of src/session/refresh.ts through `refreshIfNeeded`: when a refresh is
 * due (per mode, refresh-token expiry, no refresh endpoint), what the refresh request carries, how
 * each backend answer is classified (rotated, definitive rejection, transient with which backoff),
 * what is stored after a rotation, what is shared through the coordinator (and for how long), the
 * grace-cache chain and its limits, late answers, and the exact log lines and events of each case.
 *
 * A tiny node:http backend on 127.0.0.1 answers exactly what each test sets; the library's clock
 * is injected (a stopped clock moved by the test), the coordinator is the real MemoryCoordinator
 * wrapped in a recorder. Only the late-answer tests wait, for a 5 ms `timeoutMs`.
 */
import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import {
  type BackendCredentialsOptions,
  type CoordinatedRefresh,
  MemoryCoordinator,
  type RefreshCoordinator,
  type RefreshLimits,
  type RefreshOutcome,
} from "../src/index.js";
import { resolveOptions } from "../src/model/options.js";
import type { BackendTokenState } from "../src/model/types.js";
import { refreshIfNeeded } from "../src/session/refresh.js";
import { createRuntime } from "../src/session/runtime.js";
import { recordingLogger } from "./harness/index.js";
import { recordingEvents } from "./harness/recorders.js";

/** 2027-01-15T08:00:00Z, in seconds: where the injected clock starts. */
const NOW = 1_800_000_000;
const PROVIDER = "backend";
const USER = { id: "u1", name: "Ada", roles: ["user"] };

// --- the backend ---------------------------------------------------------------------------

interface SeenRequest {
  method: string;
  path: string;
  authorization: string | undefined;
  cookie: string | undefined;
  contentType: string | undefined;
  body: string;
}

interface Reply {
  status: number;
  body?: unknown;
  headers?: Record<string, string | string[]>;
}

type Answer = (request: SeenRequest) => Reply | Promise<Reply>;

/** What the backend answers in the current test, and what it received. */
const backend = {
  url: "",
  answer: (() => ({ status: 404, body: { error: "not_found" } })) as Answer,
  requests: [] as SeenRequest[],
  close: async () => {},
};

/** Requests to the refresh endpoint, in order. */
const refreshCalls = () => backend.requests.filter((request) => request.path === "/auth/refresh");

beforeAll(async () => {
  const server = createServer(async (request: IncomingMessage, response) => {
    let body = "";
    for await (const chunk of request) body += chunk;
    const seen: SeenRequest = {
      method: request.method ?? "",
      path: new URL(request.url ?? "/", "http://127.0.0.1").pathname,
      authorization: request.headers.authorization,
      cookie: request.headers.cookie,
      contentType: request.headers["content-type"],
      body,
    };
    backend.requests.push(seen);
    const reply = await backend.answer(seen);
    response.sendDate = false; // the library runs on an injected clock: no Date to correct by
    response.writeHead(reply.status, { "content-type": "application/json", ...reply.headers });
    response.end(reply.body === undefined ? "" : JSON.stringify(reply.body));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  backend.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  backend.close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
});
afterAll(() => backend.close());
beforeEach(() => {
  backend.requests = [];
  backend.answer = () => ({ status: 404, body: { error: "not_found" } });
});

/** A 200 refresh answer with `access-<n>`, `refresh-<n>` and a 600 s access token. */
const rotation = (n: number, extra: Record<string, unknown> = {}): Reply => ({
  status: 200,
  body: { accessToken: `access-${n}`, refreshToken: `refresh-${n}`, expires_in: 600, ...extra },
});

/** Answers each refresh token `refresh-<n>` with the rotation to `refresh-<n + 1>`. */
const rotatingBackend =
  (extra: Record<string, unknown> = {}): Answer =>
  (request) => {
    const presented = (JSON.parse(request.body || "{}") as { refreshToken?: string }).refreshToken;
    return rotation(Number(presented?.split("-")[1]) + 1, extra);
  };

/** A reply the test sends when it chooses (`release`). */
function heldReply() {
  let release: (reply: Reply) => void = () => {};
  const reply = new Promise<Reply>((resolve) => {
    release = resolve;
  });
  return { answer: (() => reply) as Answer, release };
}

// --- the provider --------------------------------------------------------------------------

/**
 * The real MemoryCoordinator, recording what each refresh hands it to share (outcome and
 * `shareForMs`) and the limits it was given; `faults` make `run` or `peek` fail.
 */
class RecordingCoordinator implements RefreshCoordinator {
  readonly handed: CoordinatedRefresh[] = [];
  readonly limits: Array<RefreshLimits | undefined> = [];
  readonly memory: MemoryCoordinator;

  constructor(
    now: () => number,
    private readonly faults: { run?: "throw" | "reject-non-error"; peek?: boolean } = {},
  ) {
    this.memory = new MemoryCoordinator({ now, scope: `test-${randomUUID()}` });
  }

  run(
    key: string,
    refresh: () => Promise<CoordinatedRefresh>,
    limits?: RefreshLimits,
  ): Promise<RefreshOutcome> {
    if (this.faults.run === "throw") throw new TypeError("coordinator down");
    if (this.faults.run === "reject-non-error") return Promise.reject("coordinator down");
    this.limits.push(limits);
    return this.memory.run(key, async () => {
      const result = await refresh();
      this.handed.push(structuredClone(result));
      return result;
    });
  }

  peek(key: string): Promise<RefreshOutcome | undefined> {
    if (this.faults.peek) return Promise.reject(new Error("coordinator down"));
    return this.memory.peek(key);
  }
}

/** A clock only the test moves, in milliseconds. */
function stoppedClock(startSeconds = NOW) {
  let nowMs = startSeconds * 1000;
  return {
    now: () => nowMs,
    advance(seconds: number) {
      nowMs += seconds * 1000;
    },
  };
}

interface PolicyOptions {
  faults?: ConstructorParameters<typeof RecordingCoordinator>[1];
  /** The coordinator's own clock (default: the library's). */
  coordinatorNow?: () => number;
}

/** A runtime built by the real createRuntime/resolveOptions against the test backend. */
function policy(given: Partial<BackendCredentialsOptions> = {}, extra: PolicyOptions = {}) {
  const clock = stoppedClock();
  const logger = recordingLogger();
  const recorder = recordingEvents();
  const coordinator = new RecordingCoordinator(extra.coordinatorNow ?? clock.now, extra.faults);
  const runtime = createRuntime(
    {},
    resolveOptions({
      baseUrl: backend.url,
      id: PROVIDER,
      logger,
      events: recorder.events,
      now: clock.now,
      coordination: coordinator,
      ...given,
      endpoints: { logout: false, ...given.endpoints },
    }),
  );
  return {
    runtime,
    clock,
    logger,
    recorder,
    coordinator,
    refresh: (state: BackendTokenState, mode?: "auto" | "force" | "never") =>
      refreshIfNeeded(runtime, state, mode),
    /** The events so far; each `durationMs` checked to be a plausible duration and blanked. */
    events: () =>
      recorder.seen.map(({ name, event }) => {
        if (!("durationMs" in event)) return { name, event };
        expect(event.durationMs).toBeGreaterThanOrEqual(0);
        expect(event.durationMs).toBeLessThan(10_000);
        return { name, event: { ...event, durationMs: "ms" } };
      }),
  };
}

/** A due session whose refresh grant is only the `cookie` (no refresh token in the body). */
function dueCookieSession(cookie: BackendTokenState["cookies"][number]): BackendTokenState {
  const {
    refreshToken: _token,
    refreshTokenField: _field,
    ...state
  } = dueSession({
    cookies: [cookie],
  });
  return state;
}

/** A signed-in session whose access token (600 s lifetime) is due: 30 s left, buffer 60 s. */
function dueSession(overrides: Partial<BackendTokenState> = {}): BackendTokenState {
  return {
    provider: PROVIDER,
    accessToken: "access-0",
    accessTokenExpiresAt: NOW + 30,
    receivedAt: NOW - 570,
    signedInAt: NOW - 3600,
    refreshToken: "refresh-0",
    refreshTokenField: "refreshToken",
    cookies: [],
    user: USER,
    ...overrides,
  };
}

/** A session just received: not due for another 540 s. */
const freshSession = (overrides: Partial<BackendTokenState> = {}) =>
  dueSession({ accessTokenExpiresAt: NOW + 600, receivedAt: NOW, ...overrides });

/** What a session looks like after rotation `n` (the backend's `rotation(n)`) at `at`. */
function rotated(n: number, at = NOW, overrides: Partial<BackendTokenState> = {}) {
  return {
    provider: PROVIDER,
    accessToken: `access-${n}`,
    accessTokenExpiresAt: at + 600,
    receivedAt: at,
    signedInAt: NOW - 3600,
    refreshToken: `refresh-${n}`,
    refreshTokenField: "refreshToken",
    cookies: [],
    user: USER,
    ...overrides,
  };
}

/** What an ended session keeps. */
const endedSession = (error: string, receivedAt = NOW - 570) => ({
  provider: PROVIDER,
  receivedAt,
  signedInAt: NOW - 3600,
  cookies: [],
  user: USER,
  error,
});

const base = { provider: PROVIDER, userId: "u1" };

// --- the tests -----------------------------------------------------------------------------

describe("refreshIfNeeded: when a refresh is due", () => {
  it("a token not yet due is kept as it is, without a backend call", async () => {
    const { refresh, events } = policy();
    backend.answer = rotatingBackend();
    const state = freshSession();
    expect(await refresh(state)).toBe(state);
    expect(backend.requests).toEqual([]);
    expect(events()).toEqual([]);
  });

  it("a due token is refreshed and the rotation stored, with one refreshSucceeded event", async () => {
    const { refresh, events, logger } = policy();
    backend.answer = rotatingBackend();
    expect(await refresh(dueSession())).toStrictEqual(rotated(1));
    expect(refreshCalls()).toHaveLength(1);
    expect(events()).toEqual([
      { name: "refreshSucceeded", event: { ...base, durationMs: "ms", late: false } },
    ]);
    expect(logger.lines).toEqual([]);
  });

  it('"force" refreshes a token that is not due', async () => {
    const { refresh } = policy();
    backend.answer = rotatingBackend();
    expect(await refresh(freshSession(), "force")).toStrictEqual(rotated(1));
  });

  it('"never" keeps a due token as it is, without a backend call', async () => {
    const { refresh, events } = policy();
    const state = dueSession();
    expect(await refresh(state, "never")).toBe(state);
    expect(backend.requests).toEqual([]);
    expect(events()).toEqual([]);
  });

  it("an ended session is kept as it is, even with force", async () => {
    const { refresh } = policy();
    const state = { ...dueSession(), error: "RefreshTokenRejected" as const };
    expect(await refresh(state, "force")).toBe(state);
    expect(backend.requests).toEqual([]);
  });

  it("a session flagged RefreshUnavailable is refreshed again and the flag cleared", async () => {
    const { refresh } = policy();
    backend.answer = rotatingBackend();
    const state = { ...dueSession(), error: "RefreshUnavailable" as const };
    expect(await refresh(state)).toStrictEqual(rotated(1));
  });

  it("a refresh token whose expiry is now ends the session (event); one second before, it refreshes", async () => {
    const expired = policy();
    expect(await expired.refresh(dueSession({ refreshTokenExpiresAt: NOW }))).toStrictEqual(
      endedSession("RefreshTokenExpired"),
    );
    expect(backend.requests).toEqual([]);
    expect(expired.events()).toEqual([
      { name: "sessionEnded", event: { ...base, reason: "RefreshTokenExpired" } },
    ]);

    const valid = policy();
    backend.answer = rotatingBackend();
    expect(await valid.refresh(dueSession({ refreshTokenExpiresAt: NOW + 1 }))).toStrictEqual(
      rotated(1, NOW, { refreshTokenExpiresAt: NOW + 1 }),
    );
  });

  it('"never" ends a session whose refresh token expired without reporting it (nothing is saved)', async () => {
    const { refresh, events } = policy();
    expect(await refresh(dueSession({ refreshTokenExpiresAt: NOW - 1 }), "never")).toStrictEqual(
      endedSession("RefreshTokenExpired"),
    );
    expect(events()).toEqual([]);
  });

  it("a session without any refresh credential ends as RefreshTokenExpired when due", async () => {
    const { refresh, events } = policy();
    const { refreshToken: _token, ...state } = dueSession();
    expect(await refresh(state)).toStrictEqual(endedSession("RefreshTokenExpired"));
    expect(backend.requests).toEqual([]);
    expect(events()).toEqual([
      { name: "sessionEnded", event: { ...base, reason: "RefreshTokenExpired" } },
    ]);
  });

  it("an ended session's userId is omitted from events when the profile has no id", async () => {
    const { refresh, events } = policy();
    await refresh(dueSession({ refreshTokenExpiresAt: NOW, user: { id: "", roles: [] } }));
    expect(events()).toEqual([
      {
        name: "sessionEnded",
        event: { provider: PROVIDER, userId: undefined, reason: "RefreshTokenExpired" },
      },
    ]);
  });
});

describe("refreshIfNeeded: without a refresh endpoint", () => {
  const noRefresh = () => policy({ endpoints: { refresh: false } });

  it("the access token's expiry ends the session (event), exactly at expiry", async () => {
    const { refresh, events } = noRefresh();
    expect(await refresh(dueSession({ accessTokenExpiresAt: NOW }))).toStrictEqual(
      endedSession("AccessTokenExpired"),
    );
    expect(events()).toEqual([
      { name: "sessionEnded", event: { ...base, reason: "AccessTokenExpired" } },
    ]);
    expect(backend.requests).toEqual([]);
  });

  it('"never" ends an expired session without reporting it', async () => {
    const { refresh, events } = noRefresh();
    expect(await refresh(dueSession({ accessTokenExpiresAt: NOW - 1 }), "never")).toStrictEqual(
      endedSession("AccessTokenExpired"),
    );
    expect(events()).toEqual([]);
  });

  it('"force" keeps a token that has not expired, even one second before expiry', async () => {
    const { refresh } = noRefresh();
    const state = dueSession({ accessTokenExpiresAt: NOW + 1 });
    expect(await refresh(state, "force")).toBe(state);
    expect(backend.requests).toEqual([]);
  });

  it("a session without a known access expiry counts as expired", async () => {
    const { refresh } = noRefresh();
    const { accessTokenExpiresAt: _expiry, ...state } = dueSession();
    expect(await refresh(state, "force")).toStrictEqual(endedSession("AccessTokenExpired"));
  });

  it("an expired refresh token is reported as such, not as an expired access token", async () => {
    const { refresh } = noRefresh();
    expect(
      await refresh(
        dueSession({ accessTokenExpiresAt: NOW + 300, refreshTokenExpiresAt: NOW }),
        "force",
      ),
    ).toStrictEqual(endedSession("RefreshTokenExpired"));
  });
});

describe("refreshIfNeeded: what the refresh request carries", () => {
  it("by default: POST, JSON { refreshToken } in the field it came in, the jar's cookies, no Authorization", async () => {
    const { refresh, coordinator } = policy();
    backend.answer = rotatingBackend();
    await refresh(dueSession({ cookies: [{ name: "sid", value: "s1", path: "/" }] }));
    expect(refreshCalls()).toEqual([
      {
        method: "POST",
        path: "/auth/refresh",
        authorization: undefined,
        cookie: "sid=s1",
        contentType: "application/json",
        body: '{"refreshToken":"refresh-0"}',
      },
    ]);
    expect(coordinator.limits).toEqual([{ maxDurationMs: 30_000 }]);
  });

  it('"bearer": the refresh token in Authorization, no body', async () => {
    const { refresh } = policy({ refreshTokenTransport: "bearer" });
    backend.answer = () => rotation(1);
    await refresh(dueSession());
    expect(refreshCalls()).toEqual([
      expect.objectContaining({
        authorization: "Bearer refresh-0",
        contentType: undefined,
        body: "",
      }),
    ]);
  });

  it("a refresh cookie: sent with the jar, nothing else; the rotated cookie replaces it", async () => {
    const { refresh } = policy({
      tokens: { refreshToken: { cookie: "rt" } },
    });
    backend.answer = () => ({
      status: 200,
      body: { accessToken: "access-1", expires_in: 600 },
      headers: { "set-cookie": ["rt=R1; Path=/; HttpOnly"] },
    });
    const state = dueCookieSession({ name: "rt", value: "R0", path: "/" });
    const after = await refresh(state);
    expect(refreshCalls()).toEqual([
      expect.objectContaining({ authorization: undefined, cookie: "rt=R0", body: "" }),
    ]);
    expect(after).toStrictEqual({
      provider: PROVIDER,
      accessToken: "access-1",
      accessTokenExpiresAt: NOW + 600,
      receivedAt: NOW,
      signedInAt: NOW - 3600,
      cookies: [{ name: "rt", value: "R1", path: "/", httpOnly: true }],
      user: USER,
    });
  });

  it("without a refresh token the session's backend cookies alone are the grant", async () => {
    const { refresh } = policy();
    backend.answer = () => rotation(1);
    const { refreshToken: _token, ...state } = dueSession({
      cookies: [{ name: "sid", value: "s1", path: "/" }],
    });
    await refresh(state);
    expect(refreshCalls()).toEqual([expect.objectContaining({ cookie: "sid=s1", body: "" })]);
  });
});

describe("refreshIfNeeded: what is stored after a rotation", () => {
  it("new tokens, their expiries and field; sign-in time, profile and its read time kept", async () => {
    const { refresh } = policy();
    backend.answer = () => ({
      status: 200,
      body: {
        access_token: "access-1",
        refresh_token: "refresh-1",
        expires_in: 600,
        refresh_expires_in: 86400,
      },
    });
    const after = await refresh(dueSession({ profileReadAt: NOW - 100 }));
    expect(after).toStrictEqual(
      rotated(1, NOW, {
        refreshTokenField: "refresh_token",
        refreshTokenExpiresAt: NOW + 86400,
        profileReadAt: NOW - 100,
      }),
    );
  });

  it("no refresh token in the answer: the old one, its field and its expiry are kept", async () => {
    const { refresh } = policy();
    backend.answer = () => ({ status: 200, body: { accessToken: "access-1", expires_in: 600 } });
    const after = await refresh(
      dueSession({ refreshTokenField: "refresh_token", refreshTokenExpiresAt: NOW + 900 }),
    );
    expect(after).toStrictEqual(
      rotated(1, NOW, {
        refreshToken: "refresh-0",
        refreshTokenField: "refresh_token",
        refreshTokenExpiresAt: NOW + 900,
      }),
    );
  });

  it("a session without sign-in time stays without one", async () => {
    const { refresh } = policy();
    backend.answer = () => rotation(1);
    const { signedInAt: _at, ...state } = dueSession();
    const { signedInAt: _none, ...expected } = rotated(1);
    expect(await refresh(state)).toStrictEqual(expected);
  });

  it("with a configured transport no field is recorded, even one stored before", async () => {
    const { refresh } = policy({ refreshTokenTransport: { body: "refreshToken" } });
    backend.answer = () => rotation(1);
    const { refreshTokenField: _field, ...expected } = rotated(1);
    expect(await refresh(dueSession())).toStrictEqual(expected);
  });

  it("a cookie-borne access token: no body token is stored, the cookie is", async () => {
    const { refresh } = policy({ tokens: { accessToken: { cookie: "at" } } });
    backend.answer = () => ({
      status: 200,
      body: { refreshToken: "refresh-1" },
      headers: { "set-cookie": ["at=A1; Max-Age=600; Path=/"] },
    });
    const { accessToken: _token, ...state } = dueSession({
      cookies: [{ name: "at", value: "A0", path: "/", expiresAt: NOW + 30 }],
    });
    const { accessToken: _none, ...expected } = rotated(1, NOW, {
      cookies: [{ name: "at", value: "A1", path: "/", expiresAt: NOW + 600 }],
    });
    expect(await refresh(state)).toStrictEqual(expected);
  });

  it("cookie changes are applied: deleted cookies go, new ones join the kept ones", async () => {
    const { refresh } = policy();
    backend.answer = () => ({
      ...rotation(1),
      headers: { "set-cookie": ["gone=; Max-Age=0; Path=/", "fresh=f1; Path=/"] },
    });
    const after = await refresh(
      dueSession({
        cookies: [
          { name: "gone", value: "g", path: "/" },
          { name: "kept", value: "k", path: "/" },
        ],
      }),
    );
    expect(after.cookies).toStrictEqual([
      { name: "kept", value: "k", path: "/" },
      { name: "fresh", value: "f1", path: "/" },
    ]);
  });

  it("keepCookies: what is shared and stored holds only kept cookies; stored ones not kept are deleted", async () => {
    const { refresh, coordinator } = policy({ keepCookies: ["keep"] });
    backend.answer = () => ({
      ...rotation(1),
      headers: { "set-cookie": ["keep=1; Path=/", "drop=2; Path=/"] },
    });
    const after = await refresh(dueSession({ cookies: [{ name: "old", value: "o" }] }));
    expect(after.cookies).toStrictEqual([{ name: "keep", value: "1", path: "/" }]);
    expect(coordinator.handed).toHaveLength(1);
    expect(coordinator.handed[0]?.outcome).toMatchObject({
      kind: "rotated",
      cookies: {
        set: [{ name: "keep", value: "1", path: "/" }],
        deleted: [
          { name: "old", path: "/" },
          { name: "drop", path: "/" },
        ],
      },
    });
    expect(coordinator.handed[0]?.shareForMs).toBe(5000);
  });

  it("a new backend cookie over the session budget is left out, logged, and the rotation stored", async () => {
    const { refresh, logger } = policy({ sessionBudgetBytes: 1000 });
    backend.answer = () => ({
      ...rotation(1),
      headers: { "set-cookie": [`big=${"b".repeat(800)}; Path=/`] },
    });
    expect(await refresh(dueSession())).toStrictEqual(rotated(1));
    expect(logger.lines).toEqual([
      'warn refresh: backend cookie "big" (803 bytes) not stored: the session would exceed sessionBudgetBytes (1000)',
    ]);
  });

  it("a rotation whose tokens alone exceed the budget is not stored: transient, with backoff", async () => {
    const { refresh, logger, events, coordinator } = policy({
      sessionBudgetBytes: 600,
      transientBackoffSeconds: 3,
    });
    backend.answer = () => rotation(1, { accessToken: "a".repeat(700) });
    expect(await refresh(dueSession())).toStrictEqual({
      ...dueSession(),
      error: "RefreshUnavailable",
    });
    expect(logger.lines).toHaveLength(1);
    expect(logger.lines[0]).toMatch(
      /^error refresh: the rotated session would take \d{3,} bytes, over sessionBudgetBytes \(600\); not stored$/,
    );
    expect(events()).toEqual([
      {
        name: "refreshFailed",
        event: {
          ...base,
          transient: true,
          durationMs: "ms",
          reason: "BackendResponseInvalid",
          status: 200,
        },
      },
    ]);
    expect(coordinator.handed).toEqual([
      { outcome: { kind: "unavailable", retryAfterSeconds: 3 }, shareForMs: 3000 },
    ]);
  });
});

/** One refresh of a due session answered by `reply`; what it gives, logs, reports and shares. */
async function classify(
  reply: Reply,
  given: Partial<BackendCredentialsOptions> = {},
  state = dueSession(),
) {
  const run = policy({ transientBackoffSeconds: 3, ...given });
  backend.answer = () => reply;
  const after = await run.refresh(state);
  return {
    error: after.error,
    lines: run.logger.lines,
    events: run.events(),
    handed: run.coordinator.handed,
  };
}

const rejected = (status: number) => ({
  error: "RefreshTokenRejected",
  events: [
    {
      name: "refreshFailed",
      event: {
        ...base,
        transient: false,
        durationMs: "ms",
        reason: "RefreshTokenRejected",
        status,
      },
    },
    { name: "sessionEnded", event: { ...base, reason: "RefreshTokenRejected" } },
  ],
  handed: [{ outcome: { kind: "rejected", status }, shareForMs: 5000 }],
});

const transient = (reason: string, status: number | undefined, seconds: number) => ({
  error: "RefreshUnavailable",
  events: [
    {
      name: "refreshFailed",
      event: {
        ...base,
        transient: true,
        durationMs: "ms",
        reason,
        ...(status === undefined ? {} : { status }),
      },
    },
  ],
  handed: [
    { outcome: { kind: "unavailable", retryAfterSeconds: seconds }, shareForMs: seconds * 1000 },
  ],
});

describe("refreshIfNeeded: definitive rejections", () => {
  it("401 ends the session, shared for the grace period", async () => {
    expect(await classify({ status: 401, body: {} })).toStrictEqual({
      ...rejected(401),
      lines: ["warn refresh: backend rejected the refresh token (401); session ended"],
    });
  });

  it("400 and 403 end the session; the OAuth error code is named when there is one", async () => {
    expect(await classify({ status: 400, body: { error: "invalid_grant" } })).toStrictEqual({
      ...rejected(400),
      lines: [
        "warn refresh: backend rejected the refresh token (400 invalid_grant); session ended",
      ],
    });
    expect((await classify({ status: 403, body: { error: "forbidden" } })).lines).toEqual([
      "warn refresh: backend rejected the refresh token (403); session ended",
    ]);
  });

  it("invalid_grant ends the session whatever the status, a 200 included", async () => {
    expect(
      await classify({
        status: 200,
        body: { error: "invalid_grant", ...(rotation(1).body as object) },
      }),
    ).toStrictEqual({
      ...rejected(200),
      lines: [
        "warn refresh: backend rejected the refresh token (200 invalid_grant); session ended",
      ],
    });
    expect((await classify({ status: 422, body: { error: "invalid_grant" } })).error).toBe(
      "RefreshTokenRejected",
    );
  });

  it("the first refresh after sign-in rejected: a hint to check the transport and token location", async () => {
    const firstRefresh = dueSession({ signedInAt: NOW - 570 });
    const { lines } = await classify({ status: 401 }, {}, firstRefresh);
    expect(lines).toEqual([
      "warn refresh: backend rejected the refresh token (401); session ended",
      'warn refresh: the first refresh after sign-in was rejected; if this happens to every session, check refreshTokenTransport (now { body: "refreshToken" }) and tokens.refreshToken against what /auth/refresh expects',
    ]);
    const bearer = await classify(
      { status: 401 },
      { refreshTokenTransport: "bearer" },
      firstRefresh,
    );
    expect(bearer.lines[1]).toBe(
      'warn refresh: the first refresh after sign-in was rejected; if this happens to every session, check refreshTokenTransport (now "bearer") and tokens.refreshToken against what /auth/refresh expects',
    );
  });

  it("a later refresh rejected, or a session without sign-in time: no hint", async () => {
    expect((await classify({ status: 401 })).lines).toHaveLength(1);
    const { signedInAt: _at, ...noSignIn } = dueSession();
    expect((await classify({ status: 401 }, {}, noSignIn)).lines).toHaveLength(1);
  });

  it("a stored refresh token that cannot be sent ends the session without a backend call", async () => {
    const result = await classify(
      { status: 500 },
      { refreshTokenTransport: "bearer" },
      dueSession({ refreshToken: "refresh\n0" }),
    );
    expect(backend.requests).toEqual([]);
    expect(result).toStrictEqual({
      error: "RefreshTokenRejected",
      lines: [
        "error refresh: POST /auth/refresh: a stored token or cookie is not a valid header value; session ended",
      ],
      events: [
        {
          name: "refreshFailed",
          event: { ...base, transient: false, durationMs: "ms", reason: "BackendResponseInvalid" },
        },
        { name: "sessionEnded", event: { ...base, reason: "RefreshTokenRejected" } },
      ],
      handed: [{ outcome: { kind: "rejected" }, shareForMs: 5000 }],
    });
  });
});

describe("refreshIfNeeded: transient failures keep the session, flagged", () => {
  it("503: retried after transientBackoffSeconds", async () => {
    expect(await classify({ status: 503 })).toStrictEqual({
      ...transient("BackendUnavailable", 503, 3),
      lines: ["warn refresh: backend answered 503; will retry"],
    });
  });

  it("429 Retry-After: seconds (capped at 60) or an HTTP date; anything else means the backoff", async () => {
    const retryAfter = async (value: string) => {
      const { handed } = await classify({ status: 429, headers: { "retry-after": value } });
      return handed[0]?.outcome.kind === "unavailable" ? handed[0].outcome.retryAfterSeconds : NaN;
    };
    const date = (seconds: number) => new Date((NOW + seconds) * 1000);
    const values = [
      "7",
      "59",
      "60",
      "61",
      "0",
      "+7",
      "soon",
      date(30).toUTCString(),
      date(30).toISOString(),
      date(-30).toUTCString(),
    ];
    const seconds: Array<number | undefined> = [];
    for (const value of values) seconds.push(await retryAfter(value));
    expect(seconds).toEqual([7, 59, 60, 60, 3, 3, 3, 30, 30, 3]);
  });

  it("a 2xx that cannot be read is transient (the backend may have rotated): never shared as a rotation", async () => {
    expect(await classify({ status: 200, body: { refreshToken: "refresh-1" } })).toStrictEqual({
      ...transient("BackendResponseInvalid", 200, 3),
      lines: [
        'error refresh: /auth/refresh response has no access token at body "accessToken" or body "access_token" or body "token"',
      ],
    });
  });

  it("a configuration error code (invalid_client) is transient, loud, retried after 30 s", async () => {
    expect(await classify({ status: 401, body: { error: "invalid_client" } })).toStrictEqual({
      ...transient("UnexpectedStatus", 401, 30),
      lines: [
        "error refresh: the refresh endpoint answered 401 invalid_client: a configuration problem (client credentials, grant type or request fields), not a rejected token; treated as transient",
      ],
    });
  });

  it("a redirect is transient, with a hint, even when its body carries tokens", async () => {
    expect(
      await classify({ ...rotation(1), status: 300, headers: { location: "/auth/refresh/" } }),
    ).toStrictEqual({
      ...transient("UnexpectedStatus", 300, 30),
      lines: [
        'error refresh: POST /auth/refresh answered 300, a redirect to /auth/refresh/ (redirects are not followed; the path lacks its trailing slash: set it to "/auth/refresh/"); treated as transient',
      ],
    });
    expect((await classify({ status: 399 })).lines).toEqual([
      "error refresh: POST /auth/refresh answered 399, a redirect to no Location (redirects are not followed; check the endpoint's path and method); treated as transient",
    ]);
  });

  it("other statuses (404, 409) are transient, retried after 30 s", async () => {
    expect(await classify({ status: 404 })).toStrictEqual({
      ...transient("UnexpectedStatus", 404, 30),
      lines: [
        "error refresh: unexpected status 404 from the refresh endpoint; treated as transient",
      ],
    });
    expect((await classify({ status: 409 })).error).toBe("RefreshUnavailable");
  });

  it("a backend that cannot be reached: NetworkError, no status", async () => {
    const { refresh, logger, events, coordinator } = policy({
      baseUrl: "http://127.0.0.1:9",
      transientBackoffSeconds: 3,
    });
    expect((await refresh(dueSession())).error).toBe("RefreshUnavailable");
    expect(logger.lines).toEqual(["warn refresh: POST /auth/refresh failed (network error)"]);
    const expected = transient("NetworkError", undefined, 3);
    expect(events()).toStrictEqual(expected.events);
    expect(coordinator.handed).toStrictEqual(expected.handed);
  });

  it("a failing coordinator keeps the session, flagged, and says only the error's class", async () => {
    for (const [fault, name] of [
      ["throw", "TypeError"],
      ["reject-non-error", "non-error"],
    ] as const) {
      const { refresh, logger, events } = policy({}, { faults: { run: fault } });
      expect(await refresh(dueSession())).toStrictEqual({
        ...dueSession(),
        error: "RefreshUnavailable",
      });
      expect(logger.lines).toEqual([
        `error refresh coordination failed (${name}; message not logged)`,
      ]);
      expect(events()).toStrictEqual([
        {
          name: "refreshFailed",
          event: { ...base, transient: true, reason: "CoordinationFailed", durationMs: "ms" },
        },
      ]);
    }
    expect(backend.requests).toEqual([]);
  });
});

describe("refreshIfNeeded: late answers", () => {
  it("past timeoutMs the user stays signed in; a joining request does not log; the late rotation is kept and shared", async () => {
    const { refresh, logger, events, recorder, coordinator } = policy({
      timeoutMs: 5,
      gracePeriodSeconds: 0,
    });
    const held = heldReply();
    backend.answer = held.answer;
    const flagged = { ...dueSession(), error: "RefreshUnavailable" };
    expect(await refresh(dueSession())).toStrictEqual(flagged);
    expect(await refresh(dueSession())).toStrictEqual(flagged);
    expect(logger.lines).toEqual([
      "warn refresh: no answer within 5 ms; the user stays signed in and the refresh may still answer within 20000 ms",
    ]);
    const succeeded = recorder.next("refreshSucceeded");
    held.release(rotation(1));
    await succeeded;
    await new Promise<void>((resolve) => setImmediate(resolve)); // the coordinator stores it
    expect(events()).toEqual([
      { name: "refreshSucceeded", event: { ...base, durationMs: "ms", late: true } },
      { name: "lateAnswerRecovered", event: { ...base, durationMs: "ms" } },
    ]);
    expect(logger.lines[1]).toMatch(
      /^warn refresh: a late answer \(\d+ ms\) was kept; no rotation lost$/,
    );
    expect(coordinator.handed.map((handed) => handed.shareForMs)).toEqual([20_005]);
    // A grace period of 0 would share nothing: the late rotation is shared all the same.
    expect(await refresh(dueSession())).toStrictEqual(rotated(1));
    expect(refreshCalls()).toHaveLength(1);
  });

  it("a refresh timing out at the backend call's limit is a transient Timeout", async () => {
    const { refresh, logger, events, recorder } = policy({
      timeoutMs: 5,
      lateAnswerLimitMs: 5,
      transientBackoffSeconds: 3,
    });
    const held = heldReply();
    backend.answer = held.answer;
    const failed = recorder.next("refreshFailed");
    expect((await refresh(dueSession())).error).toBe("RefreshUnavailable");
    await failed;
    held.release({ status: 503 });
    expect(logger.lines).toEqual([
      "warn refresh: no answer within 5 ms; the user stays signed in and the refresh may still answer within 5 ms",
      "warn refresh: POST /auth/refresh timed out after 10 ms",
    ]);
    expect(events()).toStrictEqual(transient("Timeout", undefined, 3).events);
  });
});

describe("refreshIfNeeded: grace cache and rotation chains", () => {
  it("a second request with the same old token within the grace period gets the rotation without a backend call", async () => {
    const { refresh, events } = policy();
    backend.answer = rotatingBackend();
    expect(await refresh(dueSession())).toStrictEqual(rotated(1));
    expect(await refresh(dueSession())).toStrictEqual(rotated(1));
    expect(refreshCalls()).toHaveLength(1);
    expect(events()).toHaveLength(1);
  });

  it("different refresh tokens never share a rotation", async () => {
    const { refresh } = policy();
    backend.answer = rotatingBackend();
    expect(await refresh(dueSession())).toStrictEqual(rotated(1));
    expect(await refresh(dueSession({ refreshToken: "refresh-4" }))).toStrictEqual(rotated(5));
    expect(refreshCalls()).toHaveLength(2);
  });

  it("a shared rejection is shared too: the second request ends without a backend call", async () => {
    const { refresh } = policy();
    backend.answer = () => ({ status: 401 });
    await refresh(dueSession());
    expect(await refresh(dueSession())).toStrictEqual(endedSession("RefreshTokenRejected"));
    expect(refreshCalls()).toHaveLength(1);
  });

  it("a late request follows the chain of rotations, at most 5 hops", async () => {
    const { refresh } = policy();
    backend.answer = rotatingBackend();
    for (let n = 0; n <= 6; n++) await refresh(dueSession({ refreshToken: `refresh-${n}` }));
    expect(refreshCalls()).toHaveLength(7);
    expect(await refresh(dueSession())).toStrictEqual(rotated(6));
    expect(refreshCalls()).toHaveLength(7);
  });

  it("the chain follows rotations made up to gracePeriodSeconds after the first, not one second later", async () => {
    const coordinatorClock = stoppedClock(); // keeps every outcome shared
    const { refresh, clock } = policy({}, { coordinatorNow: coordinatorClock.now });
    backend.answer = rotatingBackend();
    await refresh(dueSession()); // refresh-0 → refresh-1 at NOW
    clock.advance(5);
    await refresh(dueSession({ refreshToken: "refresh-1" }), "force"); // → refresh-2 at NOW + 5
    expect(await refresh(dueSession(), "force")).toStrictEqual(rotated(2, NOW + 5));
    clock.advance(1);
    await refresh(dueSession({ refreshToken: "refresh-2" }), "force"); // → refresh-3 at NOW + 6
    expect(await refresh(dueSession(), "force")).toStrictEqual(rotated(2, NOW + 5));
    expect(refreshCalls()).toHaveLength(3);
  });

  it("the rotation a request made itself is taken as answered, never swapped for a cached later one", async () => {
    const { refresh } = policy();
    backend.answer = () => rotation(9);
    await refresh(dueSession({ refreshToken: "refresh-1" })); // cached: refresh-1 → refresh-9
    backend.answer = () => rotation(1); // the backend hands out refresh-1 again
    expect(await refresh(dueSession())).toStrictEqual(rotated(1));
  });

  it("a shared rotation whose refresh cookie was deleted is taken as it is", async () => {
    const { refresh } = policy({ tokens: { refreshToken: { cookie: "rt" } } });
    backend.answer = () => ({
      status: 200,
      body: { accessToken: "access-1", expires_in: 600 },
      headers: { "set-cookie": ["rt=; Max-Age=0; Path=/"] },
    });
    const state = dueCookieSession({ name: "rt", value: "R0", path: "/" });
    const first = await refresh(state);
    expect(await refresh(state)).toStrictEqual(first);
    expect(first.cookies).toEqual([]);
    expect(refreshCalls()).toHaveLength(1);
  });

  it("a peek that fails keeps the shared rotation it has", async () => {
    const { refresh } = policy({}, { faults: { peek: true } });
    backend.answer = rotatingBackend();
    await refresh(dueSession());
    await refresh(dueSession({ refreshToken: "refresh-1" }), "force");
    expect(await refresh(dueSession())).toStrictEqual(rotated(1));
  });

  it("an expired refresh token whose rotation is still shared gets that rotation", async () => {
    const { refresh, clock } = policy();
    backend.answer = rotatingBackend();
    const state = dueSession({ refreshTokenExpiresAt: NOW + 1 });
    await refresh(state);
    clock.advance(1);
    expect(await refresh(state)).toStrictEqual(rotated(1, NOW, { refreshTokenExpiresAt: NOW + 1 }));
    expect(refreshCalls()).toHaveLength(1);
  });

  it("an expired refresh cookie still finds its shared rotation", async () => {
    const { refresh, clock } = policy({ tokens: { refreshToken: { cookie: "rt" } } });
    backend.answer = () => ({
      status: 200,
      body: { accessToken: "access-1", expires_in: 600 },
      headers: { "set-cookie": ["rt=R1; Path=/"] },
    });
    const state = dueCookieSession({ name: "rt", value: "R0", path: "/", expiresAt: NOW + 1 });
    await refresh(state);
    clock.advance(1);
    const late = await refresh(state);
    expect(late.accessToken).toBe("access-1");
    expect(late.cookies).toEqual([{ name: "rt", value: "R1", path: "/" }]);
    expect(refreshCalls()).toHaveLength(1);
  });

  it("an expired refresh token whose shared outcome is a rejection ends as expired", async () => {
    const { refresh, clock, events } = policy();
    backend.answer = () => ({ status: 401 });
    const state = dueSession({ refreshTokenExpiresAt: NOW + 1 });
    await refresh(state);
    clock.advance(1);
    expect(await refresh(state)).toStrictEqual(endedSession("RefreshTokenExpired"));
    expect(events().map(({ name, event }) => `${name} ${String(event.reason)}`)).toEqual([
      "refreshFailed RefreshTokenRejected",
      "sessionEnded RefreshTokenRejected",
      "sessionEnded RefreshTokenExpired",
    ]);
  });

  it("an expired refresh token and a failing peek: the session ends as expired", async () => {
    const { refresh } = policy({}, { faults: { peek: true } });
    expect(await refresh(dueSession({ refreshTokenExpiresAt: NOW }))).toStrictEqual(
      endedSession("RefreshTokenExpired"),
    );
  });
});

describe("refreshIfNeeded: a rotation that is already due", () => {
  it("is refreshed once more with its own token, one hop only", async () => {
    const { refresh } = policy();
    backend.answer = rotatingBackend({ expires_in: 0 });
    expect(await refresh(dueSession())).toStrictEqual(
      rotated(2, NOW, { accessTokenExpiresAt: NOW }),
    );
    expect(refreshCalls().map((request) => request.body)).toEqual([
      '{"refreshToken":"refresh-0"}',
      '{"refreshToken":"refresh-1"}',
    ]);
  });

  it('"never": a shared rotation that is due is taken, and not refreshed further', async () => {
    const { refresh, clock } = policy();
    // Lifetime 8 s: due 4 s after it was received; refresh token valid for a day.
    backend.answer = rotatingBackend({ expires_in: 8, refresh_expires_in: 86400 });
    const state = dueSession({ refreshTokenExpiresAt: NOW + 1 });
    await refresh(state);
    clock.advance(4);
    expect(await refresh(state, "never")).toStrictEqual(
      rotated(1, NOW, { accessTokenExpiresAt: NOW + 8, refreshTokenExpiresAt: NOW + 86400 }),
    );
    expect(refreshCalls()).toHaveLength(1);
  });
});

describe("refreshIfNeeded: profile re-read after a rotation", () => {
  const withProfile = (answerProfile: () => Reply) => {
    backend.answer = (request) => {
      if (request.path === "/users/me") return answerProfile();
      if (request.path === "/auth/logout") return { status: 204 };
      return rotation(1);
    };
    return policy({
      endpoints: { profile: "/users/me", logout: "/auth/logout" },
      profileRevalidationSeconds: 0,
    });
  };

  it("the new profile and its read time are stored with the rotation", async () => {
    const { refresh, logger } = withProfile(() => ({
      status: 200,
      body: { id: "u1", name: "Ada L.", roles: ["admin"] },
    }));
    expect(await refresh(dueSession())).toStrictEqual(
      rotated(1, NOW, {
        user: { id: "u1", name: "Ada L.", roles: ["admin"] },
        profileReadAt: NOW,
      }),
    );
    expect(backend.requests.find((request) => request.path === "/users/me")?.authorization).toBe(
      "Bearer access-1",
    );
    expect(logger.lines).toEqual([]);
  });

  it("a profile endpoint refusing the new token ends the session as AccessRevoked", async () => {
    const { refresh, events } = withProfile(() => ({ status: 401 }));
    expect(await refresh(dueSession())).toStrictEqual(endedSession("AccessRevoked"));
    expect(events()).toEqual([
      { name: "refreshSucceeded", event: { ...base, durationMs: "ms", late: false } },
      { name: "sessionEnded", event: { ...base, reason: "AccessRevoked" } },
    ]);
  });

  it("without a profile endpoint nothing is re-read", async () => {
    const { refresh, logger } = policy({ profileRevalidationSeconds: 0 });
    backend.answer = () => rotation(1);
    expect(await refresh(dueSession())).toStrictEqual(rotated(1));
    expect(backend.requests.map((request) => request.path)).toEqual(["/auth/refresh"]);
    expect(logger.lines).toEqual([]);
  });
});
