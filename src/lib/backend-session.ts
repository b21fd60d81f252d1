import { jwtDecode } from "jwt-decode";
import { applyCookieChanges, cookieHeaderFor, jarValue } from "../cookies.js";
import type { CoordinatedRefresh, RefreshOutcome } from "../coordination.js";
import { BackendAuthError, BackendSignInError } from "../errors.js";
import { emit, type RefreshFailureReason } from "../events.js";
import { longestRefreshMs, type ResolvedEndpoint } from "../options.js";
import {
  type BackendSessionError,
  type BackendTokenState,
  type BackendUser,
  TERMINAL_SESSION_ERRORS,
} from "../types.js";
import { sha256 } from "./hash.js";
import { backendErrorCode, callBackend, isTimeout, isTransientStatus } from "./http.js";
import { isRecord } from "./json-path.js";
import type { Runtime } from "./runtime.js";
import { readTokenResponse } from "./token-response.js";

/** How many grace-cache hops a late request may follow to reach the newest rotation. */
const MAX_CHAIN = 5;
/** Backoff after a transient refresh failure without `Retry-After`, in seconds. */
const TRANSIENT_BACKOFF_SECONDS = 2;
/** Backoff after a refresh answer that is neither success, transient nor a rejection, in seconds. */
const UNEXPECTED_STATUS_BACKOFF_SECONDS = 30;
/** Longest `Retry-After` honoured, in seconds. */
const MAX_RETRY_AFTER_SECONDS = 60;

const nowSeconds = (runtime: Runtime) => runtime.options.now() / 1000;

/**
 * @internal Logs in against the backend. Throws `BackendSignInError` with a non-sensitive code;
 * details go to the logger without tokens.
 */
export async function loginToBackend(
  runtime: Runtime,
  submitted: Partial<Record<string, unknown>>,
): Promise<BackendTokenState> {
  const { options } = runtime;
  const fields: Record<string, string> = {};
  for (const name of Object.keys(options.credentials)) {
    const value = submitted[name];
    if (typeof value !== "string" || value === "")
      throw new BackendSignInError("invalid_credentials");
    fields[name] = value;
  }
  const now = nowSeconds(runtime);
  const response = await withSignInErrors(runtime, "login", () =>
    callBackend(options, options.login, { json: options.loginBody(fields), nowSeconds: now }),
  );
  if (response.status < 200 || response.status >= 300) {
    if (isTransientStatus(response.status)) {
      options.logger.warn(`login: backend answered ${response.status}`);
      throw new BackendSignInError("backend_unavailable");
    }
    if (response.status >= 400) throw new BackendSignInError("invalid_credentials");
    options.logger.error(`login: unexpected status ${response.status}`);
    throw new BackendSignInError("backend_response_invalid");
  }
  const tokens = await withSignInErrors(runtime, "login", async () =>
    readTokenResponse(options, response, now, runtime.reservedCookieNames, options.logger.warn),
  );
  const partial: BackendTokenState = {
    provider: options.id,
    accessTokenExpiresAt: tokens.accessTokenExpiresAt,
    receivedAt: tokens.receivedAt,
    cookies: applyCookieChanges([], tokens.cookies, now),
    user: { id: "", roles: [] },
  };
  if (tokens.accessToken !== undefined) partial.accessToken = tokens.accessToken;
  if (tokens.refreshToken !== undefined) partial.refreshToken = tokens.refreshToken;
  if (tokens.refreshTokenExpiresAt !== undefined) {
    partial.refreshTokenExpiresAt = tokens.refreshTokenExpiresAt;
  }
  const user = await withSignInErrors(runtime, "profile", () =>
    readUser(runtime, partial, response.body),
  );
  const state = { ...partial, user };
  if (!(await isAllowed(runtime, user))) {
    await logoutFromBackend(runtime, state);
    throw new BackendSignInError("role_not_allowed");
  }
  return state;
}

async function withSignInErrors<T>(
  runtime: Runtime,
  step: string,
  work: () => Promise<T>,
): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof BackendSignInError) throw error;
    if (error instanceof BackendAuthError) {
      if (error.transient) {
        runtime.options.logger.warn(`${step}: ${error.message}`);
        throw new BackendSignInError("backend_unavailable", { cause: error });
      }
      runtime.options.logger.error(`${step}: ${error.message}`);
      throw new BackendSignInError("backend_response_invalid", { cause: error });
    }
    // App code (mapUser, authorizeUser, loginBody) threw: its message may quote backend data.
    runtime.options.logger.error(
      `${step}: unexpected ${error instanceof Error ? error.name : "error"} (message not logged)`,
    );
    throw new BackendSignInError("backend_response_invalid");
  }
}

async function readUser(
  runtime: Runtime,
  state: BackendTokenState,
  loginBody: unknown,
): Promise<BackendUser> {
  const { options } = runtime;
  let source: unknown = loginBody;
  if (options.profile) {
    const response = await callWithSession(runtime, options.profile, state);
    if (response.status < 200 || response.status >= 300) {
      throw new BackendAuthError(
        isTransientStatus(response.status) ? "BACKEND_UNAVAILABLE" : "BACKEND_RESPONSE_INVALID",
        `profile endpoint answered ${response.status}`,
        { status: response.status },
      );
    }
    source = response.body;
  }
  const mapped = options.mapUser
    ? options.mapUser(source)
    : defaultMapUser(
        source,
        [accessTokenOf(runtime, state), refreshGrantOf(runtime, state)?.token].filter(isString),
      );
  if (!mapped || typeof mapped.id !== "string" || mapped.id === "") {
    throw new BackendAuthError(
      "BACKEND_RESPONSE_INVALID",
      `no user id found in the ${options.profile ? "profile" : "login"} response (set mapUser or endpoints.profile)`,
    );
  }
  return { ...mapped, roles: Array.isArray(mapped.roles) ? mapped.roles.filter(isString) : [] };
}

/** Profile fields that are never copied to the session: credentials, token metadata, containers. */
const NOT_PROFILE =
  /token|secret|passw|credential|cookie|session|expire|^(exp|iat|nbf|jti|sid|scope|aud|iss|data|user)$/i;

/** Keys already read into the profile under another name. */
const SKIPPED = ["sub", "_id", "userId", "role", "picture", "avatar"];

/**
 * Default profile mapping: the first object among `user`, `data.user`, `data` and the body itself
 * that has an `id`, `sub`, `_id` or `userId`, else the access token's claims. From a body object it
 * keeps `id`, `name`, `email`, `image`, `roles` and other plain profile fields; never a field that
 * looks like a credential or token metadata, nor any value containing one of the tokens. From token
 * claims it keeps only `sub`, `name`, `email`, `picture` and roles.
 */
function defaultMapUser(body: unknown, tokens: readonly string[]): BackendUser | undefined {
  const candidates: unknown[] = [];
  if (isRecord(body)) {
    const data = body.data;
    candidates.push(body.user, isRecord(data) ? data.user : undefined, data, body);
  }
  for (const candidate of candidates) {
    if (!isRecord(candidate)) continue;
    const id = candidate.id ?? candidate.sub ?? candidate._id ?? candidate.userId;
    if (typeof id !== "string" && typeof id !== "number") continue;
    const user = profileOf(candidate, String(id));
    for (const [key, value] of Object.entries(candidate)) {
      if (key in user || NOT_PROFILE.test(key) || SKIPPED.includes(key)) {
        continue;
      }
      const json = JSON.stringify(value) ?? "";
      if (tokens.some((token) => token.length >= 8 && json.includes(token))) continue;
      user[key] = value;
    }
    return user;
  }
  const accessToken = tokens[0];
  if (accessToken && accessToken.split(".").length === 3) {
    try {
      const claims = jwtDecode<Record<string, unknown>>(accessToken);
      if (typeof claims.sub === "string" || typeof claims.sub === "number") {
        return profileOf(claims, String(claims.sub));
      }
    } catch {
      // not a JWT: nothing to read
    }
  }
  return undefined;
}

function profileOf(source: Record<string, unknown>, id: string): BackendUser {
  const user: BackendUser = { id, roles: rolesOf(source) };
  if (typeof source.name === "string") user.name = source.name;
  if (typeof source.email === "string") user.email = source.email;
  const image = source.image ?? source.picture ?? source.avatar;
  if (typeof image === "string") user.image = image;
  return user;
}

function rolesOf(source: Record<string, unknown>): string[] {
  const { roles, role } = source;
  if (Array.isArray(roles)) return roles.filter(isString);
  if (typeof roles === "string") return [roles];
  return typeof role === "string" ? [role] : [];
}

const isString = (value: unknown): value is string => typeof value === "string";

async function isAllowed(runtime: Runtime, user: BackendUser): Promise<boolean> {
  const { allowedRoles, authorizeUser } = runtime.options;
  if (allowedRoles && !user.roles.some((role) => allowedRoles.includes(role))) return false;
  return authorizeUser ? (await authorizeUser(user)) === true : true;
}

/** @internal The access token's value (body-borne or from its cookie), if the session has one. */
export function accessTokenOf(runtime: Runtime, state: BackendTokenState): string | undefined {
  if (state.accessToken) return state.accessToken;
  const name = runtime.options.accessToken.cookie;
  return name ? jarValue(state.cookies, name, nowSeconds(runtime)) : undefined;
}

/**
 * The refresh grant of a session: the refresh token (from the body, or the refresh cookie the
 * refresh endpoint would receive), and the key that identifies it for single flight and the grace
 * cache. Without a distinct refresh token the grant is the cookies sent to the refresh endpoint:
 * they become the key, and nothing but those cookies is sent.
 */
function refreshGrantOf(
  runtime: Runtime,
  state: BackendTokenState,
  now = nowSeconds(runtime),
): { key: string; token?: string } | undefined {
  const { refreshToken, refresh } = runtime.options;
  const token =
    state.refreshToken ??
    (refreshToken.cookie
      ? jarValue(state.cookies, refreshToken.cookie, now, refresh?.url)
      : undefined);
  if (token) return { key: token, token };
  if (refreshToken.cookie || !refresh) return undefined;
  const cookies = cookieHeaderFor(state.cookies, refresh.url, now);
  return cookies ? { key: cookies } : undefined;
}

/** Calls an endpoint as the signed-in user: Bearer access token plus the backend cookies. */
function callWithSession(runtime: Runtime, endpoint: ResolvedEndpoint, state: BackendTokenState) {
  return callBackend(runtime.options, endpoint, {
    bearer: accessTokenOf(runtime, state),
    jar: state.cookies,
    nowSeconds: nowSeconds(runtime),
  });
}

/** `true` when the state can no longer be used to call the backend. */
export function isEnded(state: BackendTokenState): boolean {
  return state.error !== undefined && TERMINAL_SESSION_ERRORS.includes(state.error);
}

/**
 * @internal Seconds before expiry at which the access token is refreshed: `refreshBufferSeconds`,
 * capped at half the token's lifetime.
 */
function refreshAt(runtime: Runtime, state: BackendTokenState): number {
  const expiresAt = state.accessTokenExpiresAt ?? 0;
  const lifetime = Math.max(0, expiresAt - state.receivedAt);
  return expiresAt - Math.min(runtime.options.refreshBufferSeconds, lifetime / 2);
}

/** @internal `true` when the access token is due for a refresh now. */
export function needsRefresh(runtime: Runtime, state: BackendTokenState): boolean {
  if (isEnded(state)) return false;
  const now = nowSeconds(runtime);
  // Without a refresh endpoint there is nothing to do before the token actually expires.
  if (!runtime.options.refresh) return now >= (state.accessTokenExpiresAt ?? 0);
  return now >= refreshAt(runtime, state);
}

/** Ends the session: drops tokens and backend cookies, keeps the profile, records why. */
function ended(state: BackendTokenState, error: BackendSessionError): BackendTokenState {
  return {
    provider: state.provider,
    receivedAt: state.receivedAt,
    cookies: [],
    user: state.user,
    error,
  };
}

/** How `refreshIfNeeded` may refresh: `"auto"` when due, `"never"`, or `"force"` even if not due. */
interface RefreshPermission {
  allowRefresh?: boolean;
  force?: boolean;
  /** @internal Set on the one extra refresh of a rotation that was already due. */
  hop?: boolean;
}

/**
 * @internal Brings a session up to date: refreshes the access token when it is due (through the
 * coordinator: single flight + grace cache), ends the session on a definitive rejection or expiry,
 * and flags `RefreshUnavailable` on transient failures. Never throws for backend failures.
 * With `allowRefresh: false` it only ends sessions whose tokens have expired (used where a rotated
 * token could not be saved); with `force: true` it refreshes even when the token is not yet due.
 *
 * A request waits at most `timeoutMs` for the refresh; the refresh itself may answer up to
 * `lateAnswerLimitMs` later, and its rotation is then shared like any other (see
 * {@link startRefresh}).
 */
export async function refreshIfNeeded(
  runtime: Runtime,
  state: BackendTokenState,
  { allowRefresh = true, force = false, hop = false }: RefreshPermission = {},
): Promise<BackendTokenState> {
  if (isEnded(state) || (!force && !needsRefresh(runtime, state))) return state;
  const now = nowSeconds(runtime);
  const refreshTokenExpired =
    state.refreshTokenExpiresAt !== undefined && now >= state.refreshTokenExpiresAt;
  if (!runtime.options.refresh && !refreshTokenExpired) {
    return now >= (state.accessTokenExpiresAt ?? 0)
      ? end(runtime, state, "AccessTokenExpired", allowRefresh)
      : state;
  }
  const grant = refreshTokenExpired ? undefined : refreshGrantOf(runtime, state, now);
  let outcome: RefreshOutcome;
  if (grant) {
    if (!allowRefresh) return state;
    outcome = await startRefresh(runtime, state, grant);
  } else {
    // No usable refresh token: a rotation of this very token a moment ago still beats its
    // expiry (grace before expiry).
    const recent = await recentRotation(runtime, state);
    if (!recent) return end(runtime, state, "RefreshTokenExpired", allowRefresh);
    outcome = recent;
  }
  switch (outcome.kind) {
    case "rotated": {
      // A rotation from the coordinator may already be due (a late answer carries tokens issued
      // when the backend processed the request; a shared one may be seconds old): refresh it once
      // more with its own, newer token. One hop only: a fresh rotation is never due (the buffer
      // is capped at half the token's lifetime).
      const next = applyRotation(runtime, state, outcome);
      if (hop || !needsRefresh(runtime, next)) return next;
      return refreshIfNeeded(runtime, next, { allowRefresh, hop: true });
    }
    case "rejected":
      return ended(state, "RefreshTokenRejected");
    case "unavailable":
      return { ...state, error: "RefreshUnavailable" };
  }
}

/** A transient outcome for a request that stopped waiting for a refresh still in flight. */
const STILL_IN_FLIGHT: RefreshOutcome = { kind: "unavailable" };

/**
 * Refreshes through the coordinator and waits at most `timeoutMs` for the outcome. The backend
 * call itself is bounded by `timeoutMs + lateAnswerLimitMs`: while it runs, the coordinator keeps
 * it in flight (later requests for the same token join it instead of refreshing again), and when
 * it answers, its outcome is shared for `gracePeriodSeconds` like any other, so a rotation that
 * answered late is not lost.
 */
async function startRefresh(
  runtime: Runtime,
  state: BackendTokenState,
  grant: { key: string; token?: string },
): Promise<RefreshOutcome> {
  const { options } = runtime;
  const started = Date.now();
  let refreshedHere = false;
  let flight: Promise<RefreshOutcome>;
  try {
    const key = await refreshKey(runtime, grant.key);
    flight = runtime.coordinator.run(
      key,
      () => {
        refreshedHere = true;
        return refreshAtBackend(runtime, state, grant.token);
      },
      { maxDurationMs: longestRefreshMs(options) },
    );
  } catch (error) {
    flight = Promise.reject(error);
  }
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timedOut = new Promise<typeof STILL_IN_FLIGHT>((resolve) => {
    timer = setTimeout(() => resolve(STILL_IN_FLIGHT), options.timeoutMs);
  });
  let outcome: RefreshOutcome;
  try {
    outcome = await Promise.race([flight, timedOut]);
  } catch (error) {
    // A coordinator that fails must not log anyone out: report and keep the session as it is.
    options.logger.error(
      `refresh coordination failed (${error instanceof Error ? error.name : "non-error"}; message not logged)`,
    );
    emit(options.events, options.logger, "refreshFailed", {
      ...eventBase(runtime, state),
      transient: true,
      reason: "coordination",
      durationMs: Date.now() - started,
    });
    return { kind: "unavailable" };
  } finally {
    clearTimeout(timer);
  }
  if (outcome === STILL_IN_FLIGHT) {
    // The refresh goes on; its answer is shared when it comes. Keep the rejection handled.
    flight.catch(() => {});
    // Logged once, by the request that started the refresh, not by every request joining it.
    // The event fires when the backend call ends (refreshSucceeded with late, or refreshFailed).
    if (!refreshedHere) return outcome;
    options.logger.warn(
      `refresh: no answer within ${options.timeoutMs} ms; the user stays signed in and the refresh may still answer within ${options.lateAnswerLimitMs} ms`,
    );
    return outcome;
  }
  // A rotation this call just made is the newest; shared ones may have been rotated again.
  return refreshedHere ? outcome : newestRotation(runtime, state, outcome);
}

/**
 * The newest rotation of this session's refresh token that the grace cache holds (its key
 * computed even from an expired refresh cookie); `undefined` when there is none.
 */
async function recentRotation(
  runtime: Runtime,
  state: BackendTokenState,
): Promise<RefreshOutcome | undefined> {
  if (!runtime.options.refresh) return undefined;
  const grant = refreshGrantOf(runtime, state, Number.NEGATIVE_INFINITY);
  if (!grant) return undefined;
  let shared: RefreshOutcome | undefined;
  try {
    shared = await runtime.coordinator.peek(await refreshKey(runtime, grant.key));
  } catch {
    return undefined;
  }
  return shared?.kind === "rotated" ? newestRotation(runtime, state, shared) : undefined;
}

/** Ends the session for a time-based reason, telling operators where the end is saved. */
function end(
  runtime: Runtime,
  state: BackendTokenState,
  reason: "RefreshTokenExpired" | "AccessTokenExpired",
  saved: boolean,
): BackendTokenState {
  if (saved) {
    emit(runtime.options.events, runtime.options.logger, "sessionEnded", {
      ...eventBase(runtime, state),
      reason,
    });
  }
  return ended(state, reason);
}

const eventBase = (runtime: Runtime, state: BackendTokenState) => ({
  provider: runtime.options.id,
  userId: state.user.id || undefined,
});

function refreshKey(runtime: Runtime, credential: string): Promise<string> {
  return sha256(`${runtime.options.id}\0${runtime.options.refresh?.url.href}\0${credential}`);
}

/** Follows the grace cache from one rotation to the next, so a late request gets the newest tokens. */
async function newestRotation(
  runtime: Runtime,
  state: BackendTokenState,
  outcome: RefreshOutcome,
): Promise<RefreshOutcome> {
  let current = outcome;
  for (let hop = 0; hop < MAX_CHAIN && current.kind === "rotated"; hop++) {
    const next = refreshGrantOf(runtime, applyRotation(runtime, state, current));
    if (!next) break;
    let later: RefreshOutcome | undefined;
    try {
      later = await runtime.coordinator.peek(await refreshKey(runtime, next.key));
    } catch {
      break; // a failing coordinator must not log anyone out: keep what we have
    }
    if (later?.kind !== "rotated") break;
    current = later;
  }
  return current;
}

function applyRotation(
  runtime: Runtime,
  state: BackendTokenState,
  outcome: Extract<RefreshOutcome, { kind: "rotated" }>,
): BackendTokenState {
  const next: BackendTokenState = {
    provider: state.provider,
    accessTokenExpiresAt: outcome.accessTokenExpiresAt,
    receivedAt: outcome.receivedAt,
    cookies: applyCookieChanges(state.cookies, outcome.cookies, nowSeconds(runtime)),
    user: state.user,
  };
  if (outcome.accessToken !== undefined) next.accessToken = outcome.accessToken;
  // Keep the old refresh token when the backend sent none (RFC 6749 §6).
  const refreshToken = outcome.refreshToken ?? state.refreshToken;
  if (refreshToken !== undefined) next.refreshToken = refreshToken;
  const refreshTokenExpiresAt = outcome.refreshTokenExpiresAt ?? state.refreshTokenExpiresAt;
  if (refreshTokenExpiresAt !== undefined) next.refreshTokenExpiresAt = refreshTokenExpiresAt;
  return next;
}

/**
 * One backend refresh, bounded by `timeoutMs + lateAnswerLimitMs`, reported to the events. Runs
 * inside the coordinator: at most once per refresh token at a time.
 */
async function refreshAtBackend(
  runtime: Runtime,
  state: BackendTokenState,
  token: string | undefined,
): Promise<CoordinatedRefresh> {
  const { options } = runtime;
  const started = Date.now();
  const { result, failure } = await callRefreshEndpoint(runtime, state, token);
  const durationMs = Date.now() - started;
  const base = eventBase(runtime, state);
  const { events, logger } = options;
  if (result.outcome.kind === "rotated") {
    const late = durationMs > options.timeoutMs;
    // The request that started it left with the old tokens: keep the rotation for its next
    // request even when the grace period is shorter (or 0), or the retired token comes back.
    if (late) {
      result.shareForMs = Math.max(result.shareForMs, longestRefreshMs(options));
    }
    emit(events, logger, "refreshSucceeded", { ...base, durationMs, late });
    if (late) {
      logger.warn(`refresh: a late answer (${durationMs} ms) was kept; no rotation lost`);
      emit(events, logger, "lateAnswerRecovered", { ...base, durationMs });
    }
  } else if (failure) {
    const transient = result.outcome.kind !== "rejected";
    emit(events, logger, "refreshFailed", { ...base, transient, durationMs, ...failure });
    if (!transient)
      emit(events, logger, "sessionEnded", { ...base, reason: "RefreshTokenRejected" });
  }
  return result;
}

/** What one call to the refresh endpoint gives the coordinator, and why it failed if it did. */
interface RefreshAttempt {
  result: CoordinatedRefresh;
  failure?: { reason: RefreshFailureReason; status?: number };
}

async function callRefreshEndpoint(
  runtime: Runtime,
  state: BackendTokenState,
  token: string | undefined,
): Promise<RefreshAttempt> {
  const { options } = runtime;
  const endpoint = options.refresh!;
  const now = nowSeconds(runtime);
  const transport = options.refreshTokenTransport;
  const grace = options.gracePeriodSeconds * 1000;
  let response: Awaited<ReturnType<typeof callBackend>>;
  try {
    response = await callBackend(options, endpoint, {
      json: token && typeof transport === "object" ? { [transport.body]: token } : undefined,
      bearer: token && transport === "bearer" ? token : undefined,
      jar: state.cookies,
      nowSeconds: now,
      timeoutMs: longestRefreshMs(options),
    });
  } catch (error) {
    options.logger.warn(`refresh: ${error instanceof Error ? error.message : "failed"}`);
    const timedOut = isTimeout(error);
    return unavailable(TRANSIENT_BACKOFF_SECONDS, timedOut ? "timeout" : "network");
  }
  const code = backendErrorCode(response.body);
  const { status } = response;
  if (status >= 200 && status < 300 && code !== "invalid_grant") {
    try {
      const tokens = readTokenResponse(
        options,
        response,
        now,
        runtime.reservedCookieNames,
        options.logger.warn,
      );
      return { result: { outcome: { kind: "rotated", ...tokens }, shareForMs: grace } };
    } catch (error) {
      // A 2xx we cannot read: the backend may have rotated already, so treat it as transient and
      // never share a half result.
      options.logger.error(
        `refresh: ${error instanceof Error ? error.message : "unreadable response"}`,
      );
      return unavailable(TRANSIENT_BACKOFF_SECONDS, "invalid_response", status);
    }
  }
  if (isTransientStatus(status)) {
    const retryAfter = parseRetryAfter(response.headers.get("retry-after"), now);
    options.logger.warn(`refresh: backend answered ${status}; will retry`);
    return unavailable(retryAfter ?? TRANSIENT_BACKOFF_SECONDS, "unavailable", status);
  }
  // RFC 6749 §5.2: only these say the grant itself is bad. Anything else (a redirect from a
  // gateway, 404 during a deploy, 409 "in progress") must not sign anyone out.
  if (code === "invalid_grant" || [400, 401, 403].includes(status)) {
    options.logger.warn(
      `refresh: backend rejected the refresh token (${status}${code ? ` ${code}` : ""}); session ended`,
    );
    return {
      result: { outcome: { kind: "rejected", status }, shareForMs: grace },
      failure: { reason: "rejected", status },
    };
  }
  options.logger.error(
    `refresh: unexpected status ${status} from the refresh endpoint; treated as transient`,
  );
  return unavailable(UNEXPECTED_STATUS_BACKOFF_SECONDS, "unexpected_status", status);
}

/** A transient refresh failure: shared for the backoff, reported with its reason. */
function unavailable(
  retryAfterSeconds: number,
  reason: RefreshFailureReason,
  status?: number,
): RefreshAttempt {
  return {
    result: {
      outcome: { kind: "unavailable", retryAfterSeconds },
      shareForMs: retryAfterSeconds * 1000,
    },
    failure: status === undefined ? { reason } : { reason, status },
  };
}
function parseRetryAfter(header: string | null, now: number): number | undefined {
  if (!header) return undefined;
  const seconds = /^\d+$/.test(header.trim()) ? Number(header) : Date.parse(header) / 1000 - now;
  if (!Number.isFinite(seconds) || seconds <= 0) return undefined;
  return Math.min(seconds, MAX_RETRY_AFTER_SECONDS);
}

/**
 * @internal Ends the backend session: calls the logout endpoint with the session's refresh token,
 * access token and cookies. A logout endpoint that needs a valid access token gets one: when the
 * access token is due, the session is refreshed first (through the coordinator, so a refresh
 * racing in another request is joined, not repeated), and when the endpoint answers 401 while a
 * refresh is still possible, it is refreshed once and the logout retried once. A logout that
 * still fails is logged and reported through `events.logoutFailed`; never thrown.
 */
export async function logoutFromBackend(runtime: Runtime, state: BackendTokenState): Promise<void> {
  const { options } = runtime;
  if (!options.logout || isEnded(state)) return;
  let current = state;
  let refreshed = false;
  const refreshOnce = async (force: boolean) => {
    refreshed = true;
    const next = await refreshIfNeeded(runtime, current, { force });
    // An ended or unavailable session keeps its tokens for the logout attempt: they may still
    // identify the backend session.
    if (!isEnded(next) && next.error === undefined) current = next;
  };
  if (options.refresh && needsRefresh(runtime, current)) await refreshOnce(false);
  let result = await callLogout(runtime, current);
  if (result.status === 401 && !refreshed && options.refresh && refreshGrantOf(runtime, current)) {
    await refreshOnce(true);
    if (current !== state) result = await callLogout(runtime, current);
  }
  if (result.status !== undefined && result.status < 400) return;
  if (result.status !== undefined) {
    options.logger.warn(
      `logout: backend answered ${result.status}; the backend session may stay alive`,
    );
  }
  emit(options.events, options.logger, "logoutFailed", {
    ...eventBase(runtime, state),
    ...(result.status === undefined
      ? { reason: result.reason }
      : { reason: "status", status: result.status }),
  });
}

async function callLogout(
  runtime: Runtime,
  state: BackendTokenState,
): Promise<
  { status: number; reason?: never } | { status?: undefined; reason: "network" | "timeout" }
> {
  const { options } = runtime;
  const transport = options.refreshTokenTransport;
  const refreshToken = refreshGrantOf(runtime, state)?.token;
  try {
    const response = await callBackend(options, options.logout!, {
      json:
        typeof transport === "object" && refreshToken
          ? { [transport.body]: refreshToken }
          : undefined,
      bearer: accessTokenOf(runtime, state),
      jar: state.cookies,
      nowSeconds: nowSeconds(runtime),
    });
    return { status: response.status };
  } catch (error) {
    options.logger.warn(`logout: ${error instanceof Error ? error.message : "failed"}`);
    const timedOut = isTimeout(error);
    return { reason: timedOut ? "timeout" : "network" };
  }
}
