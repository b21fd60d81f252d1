import { sha256 } from "../lib/hash.js";
import type { CoordinatedRefresh, RefreshOutcome } from "../model/coordinator.js";
import { BackendAuthError } from "../model/errors.js";
import { emit, type RefreshFailureReason } from "../model/events.js";
import type { RefreshTokenTransport } from "../model/options.js";
import { longestRefreshMs } from "../model/options.js";
import type { BackendTokenState, RefreshMode } from "../model/types.js";
import {
  backendErrorCode,
  callBackend,
  describeFailure,
  isConfigurationError,
  isTimeout,
  isTransientStatus,
  redirectHint,
} from "./backend-http.js";
import { fitSession, logRefusals, sessionBytes } from "./budget.js";
import { applyCookieChanges } from "./cookie-jar.js";
import { revalidate, revalidationDue } from "./revalidate.js";
import type { Runtime } from "./runtime.js";
import {
  ended,
  eventBase,
  grantBody,
  isEnded,
  needsRefresh,
  nowSeconds,
  refreshGrantOf,
} from "./state.js";
import { readTokenResponse } from "./token-response.js";

/** How many grace-cache hops a late request may follow to reach the newest rotation. */
const MAX_CHAIN = 5;
/** Backoff after a refresh answer that is neither success, transient nor a rejection, in seconds. */
const UNEXPECTED_STATUS_BACKOFF_SECONDS = 30;
/** Longest `Retry-After` honoured, in seconds. */
const MAX_RETRY_AFTER_SECONDS = 60;

/**
 * @internal Brings a session up to date as `mode` allows (see {@link RefreshMode}): refreshes the
 * access token when it is due (through the coordinator: single flight + grace cache), ends the
 * session on a definitive rejection or expiry, and flags `RefreshUnavailable` on transient
 * failures. Never throws for backend failures. With `"never"` it only ends sessions whose tokens
 * have expired (used where a rotated token could not be saved); with `"force"` it refreshes even
 * when the token is not yet due.
 *
 * A request waits at most `timeoutMs` for the refresh; the refresh itself may answer up to
 * `lateAnswerLimitMs` later, and its rotation is then shared like any other (see
 * {@link startRefresh}).
 */
export function refreshIfNeeded(
  runtime: Runtime,
  state: BackendTokenState,
  mode: RefreshMode = "auto",
): Promise<BackendTokenState> {
  return bringUpToDate(runtime, state, mode, false);
}

/** {@link refreshIfNeeded}; `hopped` is set on the one extra refresh of a rotation already due. */
async function bringUpToDate(
  runtime: Runtime,
  state: BackendTokenState,
  mode: RefreshMode,
  hopped: boolean,
): Promise<BackendTokenState> {
  const allowRefresh = mode !== "never";
  if (isEnded(state) || (mode !== "force" && !needsRefresh(runtime, state))) return state;
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
      if (hopped || !needsRefresh(runtime, next)) return next;
      return bringUpToDate(runtime, next, mode === "force" ? "auto" : mode, true);
    }
    case "rejected":
      return ended(state, outcome.error ?? "RefreshTokenRejected");
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
      reason: "CoordinationFailed",
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

function refreshKey(runtime: Runtime, credential: string): Promise<string> {
  return sha256(`${runtime.options.id}\0${runtime.options.refresh?.url.href}\0${credential}`);
}

/**
 * Follows the grace cache from one rotation to the next, so a late request gets the newest tokens
 * (at most `MAX_CHAIN` hops, and only rotations made within `gracePeriodSeconds` of the first).
 */
async function newestRotation(
  runtime: Runtime,
  state: BackendTokenState,
  outcome: RefreshOutcome,
): Promise<RefreshOutcome> {
  let current = outcome;
  if (current.kind !== "rotated") return current;
  // The window a presented token buys is counted from its own rotation: later rotations are
  // followed only while they happened within it, so an old copied cookie cannot ride the chain.
  const windowEnds = current.receivedAt + runtime.options.gracePeriodSeconds;
  for (let hop = 0; hop < MAX_CHAIN && current.kind === "rotated"; hop++) {
    const next = refreshGrantOf(runtime, applyRotation(runtime, state, current));
    if (!next) break;
    let later: RefreshOutcome | undefined;
    try {
      later = await runtime.coordinator.peek(await refreshKey(runtime, next.key));
    } catch {
      break; // a failing coordinator must not log anyone out: keep what we have
    }
    if (later?.kind !== "rotated" || later.receivedAt > windowEnds) break;
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
    ...(state.signedInAt !== undefined && { signedInAt: state.signedInAt }),
    cookies: applyCookieChanges(state.cookies, outcome.cookies, nowSeconds(runtime)),
    user: outcome.user ?? state.user,
  };
  const profileReadAt = outcome.profileReadAt ?? state.profileReadAt;
  if (profileReadAt !== undefined) next.profileReadAt = profileReadAt;
  if (outcome.accessToken !== undefined) next.accessToken = outcome.accessToken;
  // Keep the old refresh token when the backend sent none (RFC 6749 §6).
  const refreshToken = outcome.refreshToken ?? state.refreshToken;
  if (refreshToken !== undefined) next.refreshToken = refreshToken;
  const field = runtime.options.echoRefreshField
    ? (outcome.refreshTokenField ?? state.refreshTokenField)
    : undefined;
  if (field !== undefined) next.refreshTokenField = field;
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
  if (result.outcome.kind === "rotated") {
    const rotated = applyRotation(runtime, state, result.outcome);
    if (revalidationDue(runtime, rotated)) {
      result.outcome = await revalidate(runtime, rotated, result.outcome);
    }
  }
  const durationMs = Date.now() - started;
  const base = eventBase(runtime, state);
  const { events, logger } = options;
  if (result.outcome.kind === "rejected" && result.outcome.error === "AccessRevoked") {
    emit(events, logger, "refreshSucceeded", { ...base, durationMs, late: false });
    emit(events, logger, "sessionEnded", { ...base, reason: "AccessRevoked" });
  } else if (result.outcome.kind === "rotated") {
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
      body: grantBody(runtime, state, token, options.refreshBody),
      bearer: token && transport === "bearer" ? token : undefined,
      jar: state.cookies,
      nowSeconds: now,
      timeoutMs: longestRefreshMs(options),
    });
  } catch (error) {
    if (error instanceof BackendAuthError && error.code === "BackendResponseInvalid") {
      // The stored grant cannot be sent at all (stored before values were checked): no retry
      // can succeed, so end the session instead of flagging it unavailable forever.
      options.logger.error(`refresh: ${describeFailure(error)}; session ended`);
      return {
        result: { outcome: { kind: "rejected" }, shareForMs: grace },
        failure: { reason: "BackendResponseInvalid" },
      };
    }
    options.logger.warn(`refresh: ${describeFailure(error)}`);
    const timedOut = isTimeout(error);
    return unavailable(options.transientBackoffSeconds, timedOut ? "Timeout" : "NetworkError");
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
      const outcome: RefreshOutcome = { kind: "rotated", ...tokens };
      const rotated = applyRotation(runtime, state, outcome);
      const fitted = fitSession(runtime, rotated, state);
      logRefusals(runtime, "refresh", fitted.refused);
      if (!fitted.fits) {
        options.logger.error(
          `refresh: the rotated session would take ${sessionBytes(fitted.state)} bytes, over sessionBudgetBytes (${options.sessionBudgetBytes}); not stored`,
        );
        return unavailable(options.transientBackoffSeconds, "BackendResponseInvalid", status);
      }
      // Every request applying this shared outcome stores the same jar, the fitted one: new or
      // updated cookies that do not fit are not set, and stored ones that gave way are deleted.
      const key = (c: { name: string; path?: string | undefined }) => `${c.name}\0${c.path ?? "/"}`;
      const kept = new Set(fitted.state.cookies.map(key));
      const applied = rotated.cookies;
      outcome.cookies = {
        set: outcome.cookies.set.filter((c) => kept.has(key(c))),
        deleted: [
          ...outcome.cookies.deleted,
          ...applied
            .filter((c) => !kept.has(key(c)))
            .map((c) => ({ name: c.name, path: c.path ?? "/" })),
        ],
      };
      return { result: { outcome, shareForMs: grace } };
    } catch (error) {
      // A 2xx we cannot read: the backend may have rotated already, so treat it as transient and
      // never share a half result.
      options.logger.error(`refresh: ${describeFailure(error)}`);
      return unavailable(options.transientBackoffSeconds, "BackendResponseInvalid", status);
    }
  }
  if (isTransientStatus(status)) {
    const retryAfter = parseRetryAfter(response.headers.get("retry-after"), now);
    options.logger.warn(`refresh: backend answered ${status}; will retry`);
    return unavailable(retryAfter ?? options.transientBackoffSeconds, "BackendUnavailable", status);
  }
  if (code !== undefined && isConfigurationError(code)) {
    // Our request is wrong (client credentials, grant type, parameters), not the user's token:
    // loud, and nobody is signed out for it.
    options.logger.error(
      `refresh: the refresh endpoint answered ${status} ${code}: a configuration problem (client credentials, grant type or request fields), not a rejected token; treated as transient`,
    );
    return unavailable(UNEXPECTED_STATUS_BACKOFF_SECONDS, "UnexpectedStatus", status);
  }
  if (status >= 300 && status < 400) {
    options.logger.error(
      `refresh: ${redirectHint(endpoint, response.headers.get("location"), status)}; treated as transient`,
    );
    return unavailable(UNEXPECTED_STATUS_BACKOFF_SECONDS, "UnexpectedStatus", status);
  }
  // RFC 6749 §5.2: only these say the grant itself is bad. Anything else (a redirect from a
  // gateway, 404 during a deploy, 409 "in progress") must not sign anyone out.
  if (code === "invalid_grant" || [400, 401, 403].includes(status)) {
    options.logger.warn(
      `refresh: backend rejected the refresh token (${status}${code ? ` ${code}` : ""}); session ended`,
    );
    if (state.signedInAt !== undefined && state.receivedAt === state.signedInAt) {
      // Rejected at the very first refresh: more likely our request than a revoked token.
      options.logger.warn(
        `refresh: the first refresh after sign-in was rejected; if this happens to every session, check refreshTokenTransport (now ${describeTransport(transport)}) and tokens.refreshToken against what ${endpoint.url.pathname} expects`,
      );
    }
    return {
      result: { outcome: { kind: "rejected", status }, shareForMs: grace },
      failure: { reason: "RefreshTokenRejected", status },
    };
  }
  options.logger.error(
    `refresh: unexpected status ${status} from the refresh endpoint; treated as transient`,
  );
  return unavailable(UNEXPECTED_STATUS_BACKOFF_SECONDS, "UnexpectedStatus", status);
}

const describeTransport = (transport: RefreshTokenTransport) =>
  typeof transport === "object" ? `{ body: "${transport.body}" }` : `"${transport}"`;

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
