import type { StoredCookie } from "./types.js";

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
      /** Backend cookie changes carried by the refresh response. */
      cookies: { set: StoredCookie[]; deleted: Array<{ name: string; path: string }> };
    }
  /** The backend refused the refresh token (final). */
  | { kind: "rejected"; status?: number }
  /** The backend could not be reached or answered 429/5xx (try again later). */
  | { kind: "unavailable"; retryAfterSeconds?: number };

/** What a refresh function hands to the coordinator: the outcome and how long to share it. */
export interface CoordinatedRefresh {
  outcome: RefreshOutcome;
  /** How long later callers with the same key receive this outcome without a new refresh, in milliseconds. */
  shareForMs: number;
}

/**
 * Where refreshes are coordinated. The core calls `run` with a key derived from a hash of the
 * refresh token (never the token itself). Implementations guarantee:
 * - **single flight**: while a refresh for `key` runs, other callers wait for its outcome;
 * - **sharing**: for `shareForMs` after it completes, callers with `key` get the same outcome.
 *
 * The default is {@link MemoryCoordinator} (one process). Use a shared store such as Redis when
 * several processes or instances serve the same users.
 */
export interface RefreshCoordinator {
  /** Runs `refresh` unless an outcome for `key` is in flight or shared; returns that outcome. */
  run(key: string, refresh: () => Promise<CoordinatedRefresh>): Promise<RefreshOutcome>;
  /** A shared outcome for `key`, if one is still held; never starts a refresh. */
  peek(key: string): Promise<RefreshOutcome | undefined>;
}

/** Options of {@link MemoryCoordinator}. */
export interface MemoryCoordinatorOptions {
  /** Most outcomes held at once; the oldest are evicted first. @default 10000 */
  maxEntries?: number;
  /** Clock in milliseconds since the epoch. @default Date.now */
  now?: () => number;
}

/**
 * In-process single flight and grace cache. Bounded: at most `maxEntries` outcomes, each dropped
 * when its sharing window ends.
 */
export class MemoryCoordinator implements RefreshCoordinator {
  readonly #inFlight = new Map<string, Promise<RefreshOutcome>>();
  readonly #shared = new Map<string, { outcome: RefreshOutcome; until: number }>();
  readonly #maxEntries: number;
  readonly #now: () => number;

  constructor(options: MemoryCoordinatorOptions = {}) {
    const maxEntries = options.maxEntries ?? 10_000;
    if (!Number.isInteger(maxEntries) || maxEntries < 1) {
      throw new TypeError("MemoryCoordinator: option maxEntries must be an integer >= 1");
    }
    this.#maxEntries = maxEntries;
    this.#now = options.now ?? Date.now;
  }

  /** Number of outcomes currently held (for tests and metrics). */
  get size(): number {
    return this.#shared.size;
  }

  async peek(key: string): Promise<RefreshOutcome | undefined> {
    return this.#sharedOutcome(key);
  }

  run(key: string, refresh: () => Promise<CoordinatedRefresh>): Promise<RefreshOutcome> {
    const shared = this.#sharedOutcome(key);
    if (shared) return Promise.resolve(shared);
    const running = this.#inFlight.get(key);
    if (running) return running;
    const promise = (async () => {
      try {
        const { outcome, shareForMs } = await refresh();
        if (shareForMs > 0) this.#share(key, outcome, shareForMs);
        return outcome;
      } finally {
        this.#inFlight.delete(key);
      }
    })();
    this.#inFlight.set(key, promise);
    return promise;
  }

  #sharedOutcome(key: string): RefreshOutcome | undefined {
    const entry = this.#shared.get(key);
    if (!entry) return undefined;
    if (entry.until > this.#now()) return entry.outcome;
    this.#shared.delete(key);
    return undefined;
  }

  #share(key: string, outcome: RefreshOutcome, shareForMs: number): void {
    const now = this.#now();
    this.#shared.delete(key);
    this.#shared.set(key, { outcome, until: now + shareForMs });
    // Entries are in insertion order, so expired ones cluster at the front.
    for (const [oldKey, entry] of this.#shared) {
      if (this.#shared.size <= this.#maxEntries && entry.until > now) break;
      this.#shared.delete(oldKey);
    }
  }
}
