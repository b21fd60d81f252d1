import { nonEmptyString, optionalFunction, positiveInteger } from "../lib/option-checks.js";
import { processShared } from "../lib/process-shared.js";
import type {
  CoordinatedRefresh,
  RefreshCoordinator,
  RefreshOutcome,
} from "../model/coordinator.js";

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
    const owner = "MemoryCoordinator";
    const maxEntries = positiveInteger(owner, "maxEntries", options.maxEntries, 10_000);
    const scope = nonEmptyString(owner, "scope", options.scope ?? "default");
    this.#maxEntries = maxEntries;
    this.#now = optionalFunction(owner, "now", options.now) ?? Date.now;
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
