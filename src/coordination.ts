import { processShared } from "./lib/process-shared.js";
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
}

/** Options of {@link MemoryCoordinator}. */
export interface MemoryCoordinatorOptions {
  /** Most outcomes held at once; the oldest are evicted first. @default 10000 */
  maxEntries?: number;
  /** Clock in milliseconds since the epoch. @default Date.now */
  now?: () => number;
  /**
   * Coordinators with the same scope share their state (refreshes in flight and shared outcomes)
   * within the process, however many copies of this package the process has loaded (Next.js
   * loads one per bundle: proxy, route handlers, server rendering). Give a coordinator its own
   * scope only to isolate it, e.g. in tests.
   * @default "default"
   */
  scope?: string;
}

/** The state coordinators of one scope share (see {@link processShared}). */
interface MemoryState {
  inFlight: Map<string, Promise<RefreshOutcome>>;
  shared: Map<string, { outcome: RefreshOutcome; until: number }>;
}

/**
 * In-process single flight and grace cache, shared by every coordinator of the same `scope` in
 * the process (the default coordinator of every provider included). Bounded: at most
 * `maxEntries` outcomes, each dropped when its sharing window ends; a refresh stays in flight
 * until its function settles (the core bounds its backend call by `maxDurationMs`).
 */
export class MemoryCoordinator implements RefreshCoordinator {
  readonly #state: MemoryState;
  readonly #maxEntries: number;
  readonly #now: () => number;

  constructor(options: MemoryCoordinatorOptions = {}) {
    const maxEntries = options.maxEntries ?? 10_000;
    if (!Number.isInteger(maxEntries) || maxEntries < 1) {
      throw new TypeError("MemoryCoordinator: option maxEntries must be an integer >= 1");
    }
    const scope = options.scope ?? "default";
    if (typeof scope !== "string" || scope === "") {
      throw new TypeError("MemoryCoordinator: option scope must be a non-empty string");
    }
    this.#maxEntries = maxEntries;
    this.#now = options.now ?? Date.now;
    this.#state = processShared(`memory-coordinator:${scope}`, () => ({
      inFlight: new Map(),
      shared: new Map(),
    }));
  }

  /** Number of outcomes currently held (for tests and metrics). */
  get size(): number {
    return this.#state.shared.size;
  }

  /** Number of refreshes currently in flight, including late ones nobody waits for any more. */
  get inFlight(): number {
    return this.#state.inFlight.size;
  }

  async peek(key: string): Promise<RefreshOutcome | undefined> {
    return this.#sharedOutcome(key);
  }

  run(key: string, refresh: () => Promise<CoordinatedRefresh>): Promise<RefreshOutcome> {
    const shared = this.#sharedOutcome(key);
    if (shared) return Promise.resolve(shared);
    const { inFlight } = this.#state;
    const running = inFlight.get(key);
    if (running) return running;
    const promise = (async () => {
      try {
        const { outcome, shareForMs } = await refresh();
        if (shareForMs > 0) this.#share(key, outcome, shareForMs);
        return outcome;
      } finally {
        inFlight.delete(key);
      }
    })();
    inFlight.set(key, promise);
    return promise;
  }

  #sharedOutcome(key: string): RefreshOutcome | undefined {
    const { shared } = this.#state;
    const entry = shared.get(key);
    if (!entry) return undefined;
    if (entry.until > this.#now()) return entry.outcome;
    shared.delete(key);
    return undefined;
  }

  #share(key: string, outcome: RefreshOutcome, shareForMs: number): void {
    const { shared } = this.#state;
    const now = this.#now();
    shared.delete(key);
    shared.set(key, { outcome, until: now + shareForMs });
    // Entries are in insertion order, so expired ones cluster at the front.
    for (const [oldKey, entry] of shared) {
      if (shared.size <= this.#maxEntries && entry.until > now) break;
      shared.delete(oldKey);
    }
  }
}
