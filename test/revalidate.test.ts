/**
 * Profile revalidation on refresh (src/session/revalidate.ts): when a re-read is due (last read,
 * else sign-in, else token receipt; `false` never), and what the re-read with the freshly rotated
 * tokens decides: a new profile, the old one kept on a transient failure, or `AccessRevoked` with
 * a backend logout whose confirmation is checked. Against a real server on 127.0.0.1.
 */
import { createServer } from "node:http";
import { describe, expect, it } from "vitest";
import type { BackendCredentialsOptions } from "../src/index.js";
import type { RefreshOutcome } from "../src/model/coordinator.js";
import type { BackendTokenState } from "../src/model/types.js";
import { revalidate, revalidationDue } from "../src/session/revalidate.js";
import { listenForTest, providerRuntime } from "./harness/index.js";

/** A request the scripted backend received. */
interface ReceivedRequest {
  method: string;
  path: string;
  authorization: string | null;
  body: string;
}

/** How the scripted backend answers a path: a status and JSON body, or a dropped connection. */
type Answer = { status: number; body?: unknown } | "drop";

/** A real server on 127.0.0.1 answering each path as `answers` says (404 otherwise), recording every request. */
async function scriptedBackend(answers: Record<string, Answer>) {
  const requests: ReceivedRequest[] = [];
  const server = createServer(async (request, response) => {
    let body = "";
    for await (const chunk of request) body += chunk;
    const path = request.url ?? "";
    requests.push({
      method: request.method ?? "",
      path,
      authorization: request.headers.authorization ?? null,
      body,
    });
    const answer = answers[path] ?? { status: 404 };
    if (answer === "drop") {
      request.socket.destroy();
      return;
    }
    response.writeHead(answer.status, { "content-type": "application/json" });
    response.end(answer.body === undefined ? "" : JSON.stringify(answer.body));
  });
  const url = await listenForTest(server);
  return { url, requests };
}

/** A provider runtime with a profile and a logout endpoint, on a clock the test sets (`clock.seconds`). */
function runtimeWith(
  options: Partial<BackendCredentialsOptions> = {},
  baseUrl = "http://127.0.0.1:9",
) {
  return providerRuntime({
    baseUrl,
    ...options,
    endpoints: { profile: "/me", logout: "/logout", refresh: "/refresh", ...options.endpoints },
  });
}

/** The session as it will be after the rotation: new tokens, the profile of sign-in. */
function rotatedState(parts: Partial<BackendTokenState> = {}): BackendTokenState {
  return {
    provider: "backend",
    accessToken: "at-2",
    accessTokenExpiresAt: 1600,
    receivedAt: 1000,
    refreshToken: "rt-2",
    signedInAt: 400,
    cookies: [],
    user: { id: "7", name: "Ada", email: "ada@example.com", roles: ["admin"] },
    ...parts,
  };
}

/** The rotation the refresh produced, as shared with other requests. */
const rotation = (): Extract<RefreshOutcome, { kind: "rotated" }> => ({
  kind: "rotated",
  accessToken: "at-2",
  accessTokenExpiresAt: 1600,
  receivedAt: 1000,
  refreshToken: "rt-2",
  cookies: { set: [], deleted: [] },
});

const PROFILE = { id: "7", name: "Ada L.", email: "ada@example.com", roles: ["admin"] };
const REVOKED = { kind: "rejected", error: "AccessRevoked" };
const LOGOUT_REQUEST: ReceivedRequest = {
  method: "POST",
  path: "/logout",
  authorization: "Bearer at-2",
  body: '{"refreshToken":"rt-2"}',
};

describe("revalidationDue", () => {
  /** Whether a re-read is due at `seconds`, with `profileRevalidationSeconds: 300`. */
  function dueAt(state: BackendTokenState, seconds: number): boolean {
    const { runtime, clock } = runtimeWith({ profileRevalidationSeconds: 300 });
    clock.seconds = seconds;
    return revalidationDue(runtime, state);
  }

  it("is due profileRevalidationSeconds after the last profile read, not earlier", () => {
    const state = rotatedState({ profileReadAt: 1000, signedInAt: 500, receivedAt: 900 });
    expect(dueAt(state, 1299.999)).toBe(false);
    expect(dueAt(state, 1300)).toBe(true);
  });

  it("without a recorded read, counts from sign-in", () => {
    const state = rotatedState({ signedInAt: 500, receivedAt: 900 });
    expect(dueAt(state, 799.999)).toBe(false);
    expect(dueAt(state, 800)).toBe(true);
  });

  it("without a read or sign-in time, counts from when the tokens were received", () => {
    const state = rotatedState({ signedInAt: undefined, receivedAt: 900 });
    expect(dueAt(state, 1199.999)).toBe(false);
    expect(dueAt(state, 1200)).toBe(true);
  });

  it("0 re-reads at every refresh, even one in the same second as the last read", () => {
    const { runtime, clock } = runtimeWith({ profileRevalidationSeconds: 0 });
    clock.seconds = 1000;
    expect(revalidationDue(runtime, rotatedState({ profileReadAt: 1000 }))).toBe(true);
  });

  it("profileRevalidationSeconds: false never re-reads, however old the profile", () => {
    const { runtime, clock } = runtimeWith({ profileRevalidationSeconds: false });
    clock.seconds = 1_000_000;
    expect(revalidationDue(runtime, rotatedState({ profileReadAt: 0 }))).toBe(false);
  });

  it("without a profile endpoint the profile is never re-read", () => {
    const { runtime, clock } = runtimeWith({ endpoints: { profile: false } });
    clock.seconds = 1_000_000;
    expect(revalidationDue(runtime, rotatedState({ profileReadAt: 0 }))).toBe(false);
  });
});

describe("revalidate", () => {
  it("an allowed user: the rotation carries the re-read profile and when it was read; nothing logged, no logout", async () => {
    const backend = await scriptedBackend({ "/me": { status: 200, body: PROFILE } });
    const { runtime, clock, logger } = runtimeWith({ allowedRoles: ["admin"] }, backend.url);
    clock.seconds = 1000.25;
    const outcome = rotation();
    expect(await revalidate(runtime, rotatedState(), outcome)).toStrictEqual({
      ...outcome,
      user: PROFILE,
      profileReadAt: 1000.25,
    });
    expect(backend.requests).toEqual([
      { method: "GET", path: "/me", authorization: "Bearer at-2", body: "" },
    ]);
    expect(logger.lines).toEqual([]);
  });

  it("a user no longer in allowedRoles: AccessRevoked, logged, and the backend session logged out with the new tokens", async () => {
    const backend = await scriptedBackend({
      "/me": { status: 200, body: { ...PROFILE, roles: ["viewer"] } },
      "/logout": { status: 204 },
    });
    const { runtime, logger } = runtimeWith({ allowedRoles: ["admin"] }, backend.url);
    expect(await revalidate(runtime, rotatedState(), rotation())).toStrictEqual(REVOKED);
    expect(backend.requests.map((request) => request.path)).toEqual(["/me", "/logout"]);
    expect(backend.requests[1]).toEqual(LOGOUT_REQUEST);
    expect(logger.lines).toEqual([
      "warn refresh: the user is no longer allowed (allowedRoles / authorizeUser); session ended (AccessRevoked)",
    ]);
  });

  it("a profile endpoint refusing the new token (401): AccessRevoked, the status logged, the backend session logged out", async () => {
    const backend = await scriptedBackend({
      "/me": { status: 401 },
      "/logout": { status: 200 },
    });
    const { runtime, logger } = runtimeWith({}, backend.url);
    expect(await revalidate(runtime, rotatedState(), rotation())).toStrictEqual(REVOKED);
    expect(backend.requests[1]).toEqual(LOGOUT_REQUEST);
    expect(logger.lines).toEqual([
      "warn refresh: the profile endpoint refused the new token (401); session ended (AccessRevoked)",
    ]);
  });

  it("without a logout endpoint, AccessRevoked ends the session without a logout call or a warning about it", async () => {
    const backend = await scriptedBackend({ "/me": { status: 401 } });
    const { runtime, logger } = runtimeWith({ endpoints: { logout: false } }, backend.url);
    expect(await revalidate(runtime, rotatedState(), rotation())).toStrictEqual(REVOKED);
    expect(backend.requests.map((request) => request.path)).toEqual(["/me"]);
    expect(logger.lines).toEqual([
      "warn refresh: the profile endpoint refused the new token (401); session ended (AccessRevoked)",
    ]);
  });

  it("a transient failure (503): the rotation is shared unchanged, the old profile kept, no logout", async () => {
    const backend = await scriptedBackend({ "/me": { status: 503 } });
    const { runtime, logger } = runtimeWith({}, backend.url);
    const outcome = rotation();
    expect(await revalidate(runtime, rotatedState(), outcome)).toBe(outcome);
    expect(outcome).toStrictEqual(rotation());
    expect(backend.requests.map((request) => request.path)).toEqual(["/me"]);
    expect(logger.lines).toEqual([
      "warn refresh: profile re-read failed (profile endpoint answered 503); the old profile is kept",
    ]);
  });

  it("an unexpected error while mapping the profile keeps the old profile, and its message is not logged", async () => {
    const backend = await scriptedBackend({ "/me": { status: 200, body: PROFILE } });
    const mapUser = () => {
      throw new Error("secret detail");
    };
    const { runtime, logger } = runtimeWith({ mapUser }, backend.url);
    const outcome = rotation();
    expect(await revalidate(runtime, rotatedState(), outcome)).toBe(outcome);
    expect(logger.lines).toEqual([
      "warn refresh: profile re-read failed (unexpected Error (message not logged)); the old profile is kept",
    ]);
  });

  const NOT_CONFIRMED =
    "warn refresh: the backend logout after AccessRevoked did not confirm the end of the session";
  for (const [status, confirmed] of [
    [299, true],
    [300, false],
    [401, false],
  ] as const) {
    it(`a backend logout answering ${status} ${confirmed ? "confirms" : "does not confirm"} the end of the session`, async () => {
      const backend = await scriptedBackend({ "/me": { status: 403 }, "/logout": { status } });
      const { runtime, logger } = runtimeWith({}, backend.url);
      expect(await revalidate(runtime, rotatedState(), rotation())).toStrictEqual(REVOKED);
      expect(logger.lines).toEqual([
        "warn refresh: the profile endpoint refused the new token (403); session ended (AccessRevoked)",
        ...(confirmed ? [] : [NOT_CONFIRMED]),
      ]);
    });
  }

  it("a backend logout that fails on the network does not confirm the end of the session", async () => {
    const backend = await scriptedBackend({ "/me": { status: 403 }, "/logout": "drop" });
    const { runtime, logger } = runtimeWith({}, backend.url);
    expect(await revalidate(runtime, rotatedState(), rotation())).toStrictEqual(REVOKED);
    expect(logger.lines).toEqual([
      "warn refresh: the profile endpoint refused the new token (403); session ended (AccessRevoked)",
      "warn logout: POST /logout failed (network error)",
      NOT_CONFIRMED,
    ]);
  });
});
