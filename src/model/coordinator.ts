import type { BackendUser, StoredCookie } from "./types.js";

/**
 * The result of one refresh attempt, shared by every request that carried the same refresh token.
 * JSON-serialisable, so a coordinator may store it outside the process (encrypted: it holds tokens).
 */
export type RefreshOutcome =
  | {
      kind: "rotated";
      /** New access token (absent when it lives in a backend cookie). */
      accessToken?: string;
      /** Seconds since the epoch, our clock. */
      accessTokenExpiresAt: number;
      /** Seconds since the epoch when the tokens were received. */
      receivedAt: number;
      /** New refresh token; absent when the backend sent none (the old one stays valid) or it lives in a cookie. */
      refreshToken?: string;
      refreshTokenExpiresAt?: number;
      /** The body field the new refresh token came in (sent back under the same name). */
      refreshTokenField?: string;
      /** The profile re-read with the new tokens (`profileRevalidationSeconds`), when it was. */
      user?: BackendUser;
      /** When that profile was read, seconds since the epoch. */
      profileReadAt?: number;
      /** Backend cookie changes carried by the refresh response. */
      cookies: { set: StoredCookie[]; deleted: Array<{ name: string; path: string }> };
    }
  /**
   * The session ends (final): the backend refused the refresh token, or (`error:
   * "AccessRevoked"`) the profile re-read with the new tokens found the user no longer allowed.
   */
  | { kind: "rejected"; status?: number; error?: "AccessRevoked" }
  /** The backend could not be reached or answered 429/5xx (try again later). */
  | { kind: "unavailable"; retryAfterSeconds?: number };

/** What a refresh function hands to the coordinator: the outcome and how long to share it. */
export interface CoordinatedRefresh {
  outcome: RefreshOutcome;
  /** How long later callers with the same key receive this outcome without a new refresh, in milliseconds. */
  shareForMs: number;
}

/** What the core tells a coordinator about one refresh. */
export interface RefreshLimits {
  /**
   * The longest the refresh can run, in milliseconds: the backend call's hard limit
   * (`timeoutMs + lateAnswerLimitMs`). Callers stop waiting after `timeoutMs`, but the refresh
   * goes on until it answers or this limit passes; a lock that guards it must outlive it.
   */
  maxDurationMs: number;
}

/**
 * Where refreshes are coordinated. The core calls `run` with a key derived from a hash of the
 * refresh token (never the token itself). Implementations guarantee:
 * - **single flight**: while a refresh for `key` runs, other callers wait for its outcome, even
 *   after the caller that started it has stopped waiting (a late answer still lands);
 * - **sharing**: for `shareForMs` after it completes, callers with `key` get the same outcome.
 *
 * The default is {@link MemoryCoordinator} (one process, shared by every copy of this package the
 * process loads). Use a shared store such as Redis when several processes or instances serve the
 * same users.
 */
export interface RefreshCoordinator {
  /** Runs `refresh` unless an outcome for `key` is in flight or shared; returns that outcome. */
  run(
    key: string,
    refresh: () => Promise<CoordinatedRefresh>,
    limits?: RefreshLimits,
  ): Promise<RefreshOutcome>;
  /** A shared outcome for `key`, if one is still held; never starts a refresh. */
  peek(key: string): Promise<RefreshOutcome | undefined>;
  /**
   * A fixed upper bound on how long a refresh is guarded (a lock's TTL), in milliseconds, when the
   * coordinator has one. The provider refuses a coordinator whose bound does not exceed its
   * `timeoutMs + lateAnswerLimitMs`: the guard could lapse while the refresh can still answer.
   */
  readonly lockTtlMs?: number | undefined;
  /**
   * Receives the Auth.js config's secret(s) from `withBackend`, for a coordinator that seals what
   * it shares and was given no secret of its own (`RedisCoordinator`). Optional.
   */
  adoptAuthSecret?(secrets: readonly string[]): void;
}
