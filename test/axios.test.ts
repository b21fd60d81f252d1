import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import type { JWT } from "@auth/core/jwt";
import axios, { AxiosError } from "axios";
import { describe, expect, it, onTestFinished, vi } from "vitest";
import { type BackendAxiosOptions, withBackendAuth } from "../src/axios/index.js";
import {
  type BackendAuth,
  BackendAuthError,
  backendAuthFromToken,
  type RefreshMode,
  TERMINAL_SESSION_ERRORS,
} from "../src/index.js";
import { ADMIN, signedIn } from "./harness/index.js";

// backend.axios reads the request through next/headers, which only a Next.js server provides.

type Harness = Awaited<ReturnType<typeof signedIn>>;

/**
 * An axios instance for the signed-in browser of `harness`, as a plain server would build it: the
 * session JWT is read once and saved again whenever a call rotated it (`auth.refreshed`).
 */
async function sessionAxios(
  harness: Harness,
  options: Partial<BackendAxiosOptions> & { modeFor?: (mode: RefreshMode) => RefreshMode } = {},
) {
  let token = (await harness.browser.token()) as JWT;
  const { modeFor = (mode) => mode, ...rest } = options;
  const getAuth = vi.fn(async (mode: RefreshMode): Promise<BackendAuth> => {
    const auth = await backendAuthFromToken(harness.config, token, { refresh: modeFor(mode) });
    if (auth.refreshed) token = auth.token;
    return auth;
  });
  const api = withBackendAuth(axios.create({ baseURL: harness.backend.url }), {
    getAuth,
    ...rest,
  });
  return { api, getAuth };
}

/** The modes `getAuth` was called with, in order. */
const modesOf = (getAuth: ReturnType<typeof vi.fn>) => getAuth.mock.calls.map(([mode]) => mode);

/** A server on another origin that answers with the headers it received. */
async function echoServer(): Promise<string> {
  const server = createServer((req, res) => {
    res.setHeader("content-type", "application/json");
    res.end(JSON.stringify(req.headers));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  onTestFinished(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

const UNAUTHORIZED = { status: 401, body: { error: "invalid_token" } };

describe("withBackendAuth (axios interceptors)", () => {
  it("attaches the Bearer token and the backend cookies for the URL, and the backend serves /api/items", async () => {
    const harness = await signedIn({ tokenPlacement: "mixed", requireSessionCookie: true });
    const { api, getAuth } = await sessionAxios(harness);
    const response = await api.get("/api/items");
    expect(response.status).toBe(200);
    expect(response.data.user).toBe(ADMIN.email);
    expect(String(response.config.headers.get("authorization"))).toMatch(/^Bearer ey/);
    expect(String(response.config.headers.get("cookie"))).toContain("backend_sid=");
    expect(modesOf(getAuth)).toEqual(["never"]);
    expect(harness.backend.stats.refresh).toBe(0);
  });

  it("after a 401 from the backend refreshes exactly once and retries once with the new token, which succeeds", async () => {
    const harness = await signedIn({ tokenPlacement: "mixed" });
    const { api, getAuth } = await sessionAxios(harness);
    const first = await api.get("/api/items");
    const firstToken = first.config.headers.get("authorization");
    harness.backend.injectFault("items", UNAUTHORIZED);
    const response = await api.get("/api/items");
    expect(response.status).toBe(200);
    expect(response.config.headers.get("authorization")).not.toBe(firstToken);
    expect(harness.backend.stats.refreshSucceeded).toBe(1);
    expect(harness.backend.stats.items).toBe(3);
    expect(modesOf(getAuth).filter((mode) => mode === "force")).toHaveLength(1);
  });

  it("returns a second 401 after the retry to the caller instead of retrying again", async () => {
    const harness = await signedIn({ tokenPlacement: "mixed" });
    const { api } = await sessionAxios(harness);
    harness.backend.injectFault("items", { ...UNAUTHORIZED, times: 2 });
    const error = await api.get("/api/items").catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(AxiosError);
    expect((error as AxiosError).response?.status).toBe(401);
    expect(harness.backend.stats.items).toBe(2);
    expect(harness.backend.stats.refreshSucceeded).toBe(1);
  });

  it("also retries once when validateStatus accepts a 401, and then returns the second 401", async () => {
    const harness = await signedIn({ tokenPlacement: "mixed" });
    const { api } = await sessionAxios(harness);
    harness.backend.injectFault("items", { ...UNAUTHORIZED, times: 2 });
    const response = await api.get("/api/items", { validateStatus: () => true });
    expect(response.status).toBe(401);
    expect(harness.backend.stats.items).toBe(2);
    expect(harness.backend.stats.refreshSucceeded).toBe(1);
  });

  it("hands a revoked session to onSessionEnded with a terminal code, and the request fails with it", async () => {
    const harness = await signedIn({ tokenPlacement: "mixed" });
    const onSessionEnded = vi.fn();
    const { api } = await sessionAxios(harness, { onSessionEnded });
    harness.backend.revokeAll();
    const error = await api.get("/api/items").catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(BackendAuthError);
    expect(onSessionEnded).toHaveBeenCalledTimes(1);
    const ended = onSessionEnded.mock.calls[0]?.[0] as BackendAuthError;
    expect(ended).toBe(error);
    expect(TERMINAL_SESSION_ERRORS).toContain(ended.code);
    expect(ended.transient).toBe(false);
  });

  it("hands NoSession to onSessionEnded, but fails a transient RefreshUnavailable without calling it", async () => {
    const harness = await signedIn({ tokenPlacement: "mixed" });
    const onSessionEnded = vi.fn();
    const noSession = withBackendAuth(axios.create({ baseURL: harness.backend.url }), {
      getAuth: () => Promise.reject(new BackendAuthError("NoSession", "no session")),
      onSessionEnded,
    });
    await expect(noSession.get("/api/items")).rejects.toMatchObject({ code: "NoSession" });
    expect(onSessionEnded).toHaveBeenCalledTimes(1);

    onSessionEnded.mockClear();
    const { api } = await sessionAxios(harness, { onSessionEnded });
    harness.clock.advance(601); // expired, and "never" may not refresh
    await expect(api.get("/api/items")).rejects.toMatchObject({ code: "RefreshUnavailable" });
    expect(onSessionEnded).not.toHaveBeenCalled();
    expect(harness.backend.stats.items).toBe(0);
  });

  it("sends requests to another origin untouched: no Authorization, no Cookie, no getAuth call", async () => {
    const harness = await signedIn({ tokenPlacement: "mixed" });
    const { api, getAuth } = await sessionAxios(harness);
    const elsewhere = await echoServer();
    const response = await api.get(`${elsewhere}/anything`);
    expect(response.data.authorization).toBeUndefined();
    expect(response.data.cookie).toBeUndefined();
    expect(getAuth).not.toHaveBeenCalled();
  });

  it("makes one backend refresh for 20 concurrent requests with a due token (getAuth may refresh)", async () => {
    const harness = await signedIn({ tokenPlacement: "mixed" });
    const { api } = await sessionAxios(harness, {
      modeFor: (mode) => (mode === "never" ? "auto" : mode),
    });
    harness.clock.advance(590); // within refreshBufferSeconds of expiry
    const responses = await Promise.all(Array.from({ length: 20 }, () => api.get("/api/items")));
    expect(responses.map((response) => response.status)).toEqual(Array(20).fill(200));
    expect(harness.backend.stats.refresh).toBe(1);
    expect(harness.backend.stats.refreshSucceeded).toBe(1);
  });

  it("makes one backend refresh for 20 concurrent requests that all meet a 401, and retries each once", async () => {
    const harness = await signedIn({ tokenPlacement: "mixed" });
    const { api } = await sessionAxios(harness);
    harness.backend.injectFault("items", { ...UNAUTHORIZED, times: 20 });
    // A slow refresh: every first attempt has met its 401 before any retry is sent.
    harness.backend.injectFault("refresh", { delayMs: 300 });
    const responses = await Promise.all(Array.from({ length: 20 }, () => api.get("/api/items")));
    expect(responses.map((response) => response.status)).toEqual(Array(20).fill(200));
    expect(harness.backend.stats.refreshSucceeded).toBe(1);
    expect(harness.backend.stats.items).toBe(40);
  });

  it("refuses an instance without an absolute baseURL when no baseUrl is given", () => {
    expect(() => withBackendAuth(axios.create(), { getAuth: vi.fn() })).toThrow(TypeError);
  });
});
