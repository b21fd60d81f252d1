import type { BackendSessionError } from "./types.js";

/** Fields every event carries. Never a token, a cookie value or a backend response body. */
export interface BackendEventBase {
  /** Id of the BackendCredentials provider. */
  provider: string;
  /** The signed-in user's id (from the profile), when known. */
  userId: string | undefined;
}

/**
 * Why a refresh failed (codes in the package's one casing; see `BackendErrorCode`):
 * - `Timeout`: the backend did not answer within `timeoutMs + lateAnswerLimitMs` (a call that
 *   answers later than `timeoutMs` but within the limit is a success with `late: true`);
 * - `NetworkError`: the connection failed or was dropped;
 * - `BackendUnavailable`: 408/425/429 or 5xx;
 * - `UnexpectedStatus`: a status that is neither success nor rejection (3xx, 404, 409, …),
 *   treated as transient;
 * - `BackendResponseInvalid`: a 2xx whose tokens could not be read, treated as transient;
 * - `CoordinationFailed`: the coordinator failed (e.g. a custom one threw);
 * - `RefreshTokenRejected`: 400/401/403 or `invalid_grant`: final.
 */
export type RefreshFailureReason =
  | "Timeout"
  | "NetworkError"
  | "BackendUnavailable"
  | "UnexpectedStatus"
  | "BackendResponseInvalid"
  | "CoordinationFailed"
  | "RefreshTokenRejected";

/**
 * Why a backend logout did not confirm the end of the backend session: `ErrorStatus` (it answered
 * 4xx/5xx; the event carries `status`), `NetworkError` or `Timeout`.
 */
export type LogoutFailureReason = "ErrorStatus" | "NetworkError" | "Timeout";

/**
 * Callbacks for operators (metrics, alerts, audit logs), given as the provider's `events` option.
 * Each is called without being awaited; a handler that throws or rejects is logged (without its
 * message) and never affects the request. No event carries a token or cookie value.
 */
export interface BackendEvents {
  /** The backend rotated the tokens. Once per backend refresh (not per request that shared it). */
  refreshSucceeded?: (
    event: BackendEventBase & {
      /** Duration of the backend call, in milliseconds. */
      durationMs: number;
      /** `true` when it answered after `timeoutMs` (see `lateAnswerRecovered`). */
      late: boolean;
    },
  ) => void | Promise<void>;
  /**
   * A backend refresh failed (once per backend refresh, when its call ends). `transient` failures
   * keep the user signed in and are retried.
   */
  refreshFailed?: (
    event: BackendEventBase & {
      transient: boolean;
      reason: RefreshFailureReason;
      /** The backend's HTTP status, when it answered. */
      status?: number;
      /** Duration of the backend call, in milliseconds. */
      durationMs: number;
    },
  ) => void | Promise<void>;
  /**
   * A refresh answered after the request that started it had stopped waiting (`timeoutMs`), but
   * within `lateAnswerLimitMs`: its rotation was kept, and the next request carrying the old
   * refresh token receives the new tokens without a backend call.
   */
  lateAnswerRecovered?: (
    event: BackendEventBase & {
      /** Duration of the backend call, in milliseconds. */
      durationMs: number;
    },
  ) => void | Promise<void>;
  /**
   * A session ended for good (the user must sign in again): the backend rejected the refresh
   * token (once per rejected token), or a request found the refresh token (or, without a refresh
   * endpoint, the access token) expired where the session could be saved.
   */
  sessionEnded?: (
    event: BackendEventBase & {
      reason: Exclude<BackendSessionError, "RefreshUnavailable">;
    },
  ) => void | Promise<void>;
  /**
   * Sign-out could not confirm the end of the backend session: the logout endpoint failed or
   * answered an error even after a refresh and one retry. The local session is cleared anyway;
   * the backend session may stay alive until it expires.
   */
  logoutFailed?: (
    event: BackendEventBase & {
      reason: LogoutFailureReason;
      /** The backend's HTTP status, when it answered. */
      status?: number;
    },
  ) => void | Promise<void>;
}

/** @internal Calls an event handler without letting it affect the caller. */
export function emit<Name extends keyof BackendEvents>(
  events: BackendEvents,
  logger: { error(message: string): void },
  name: Name,
  event: Parameters<NonNullable<BackendEvents[Name]>>[0],
): void {
  const handler = events[name] as ((event: unknown) => unknown) | undefined;
  if (!handler) return;
  const report = (error: unknown) =>
    logger.error(
      `events.${name} threw ${error instanceof Error ? error.name : "a non-error"} (message not logged)`,
    );
  try {
    const result = handler(event);
    if (result && typeof (result as Promise<unknown>).then === "function") {
      (result as Promise<unknown>).then(undefined, report);
    }
  } catch (error) {
    report(error);
  }
}
