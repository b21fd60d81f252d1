import { MemoryCoordinator } from "../coordination/memory-coordinator.js";
import type { RefreshCoordinator } from "../model/coordinator.js";
import { longestRefreshMs, type ResolvedOptions } from "../model/options.js";
import type { BackendTokenState } from "../model/types.js";
import { warnOnce } from "./warn-once.js";

/** @internal Everything a BackendCredentials provider needs at run time. */
export interface Runtime {
  options: ResolvedOptions;
  coordinator: RefreshCoordinator;
  /** Extra cookie names the backend may not set (Auth.js cookie names customised in the config). */
  reservedCookieNames: Set<string>;
  /** Backend state of users returned by `authorize`, until the `jwt` callback stores it. */
  pendingSignIns: WeakMap<object, BackendTokenState>;
}

/**
 * The coordinator of every provider without its own. Its state lives in the process-wide registry
 * (scope "default"), so every bundle that loads this package, and every lazily created provider,
 * coordinates with the others.
 */
let defaultCoordinator: MemoryCoordinator | undefined;
const runtimes = new WeakMap<object, Runtime>();

/** @internal */
export function createRuntime(provider: object, options: ResolvedOptions): Runtime {
  // A lock that expires while the refresh it guards can still answer lets a second instance
  // refresh with the same token: a reuse the backend may punish by revoking the session.
  const lockTtlMs = options.coordination?.lockTtlMs;
  const longest = longestRefreshMs(options);
  if (typeof lockTtlMs === "number" && lockTtlMs <= longest) {
    throw new TypeError(
      `BackendCredentials: option coordination.lockTtlMs (${lockTtlMs} ms) must exceed options timeoutMs + lateAnswerLimitMs (${longest} ms)`,
    );
  }
  if (options.refresh && options.logoutUnset) warnOnce(options, "logout-unset", LOGOUT_UNSET);
  defaultCoordinator ??= new MemoryCoordinator();
  const runtime: Runtime = {
    options,
    coordinator: options.coordination ?? defaultCoordinator,
    reservedCookieNames: new Set(),
    pendingSignIns: new WeakMap(),
  };
  runtimes.set(provider, runtime);
  return runtime;
}

const LOGOUT_UNSET =
  "endpoints.logout is not set: sign-out deletes our cookies but does not end the backend session, so a copied session cookie keeps refreshing until its refresh token expires. Set endpoints.logout (or endpoints.logout: false when the backend has none).";

/** @internal The runtime behind a provider object returned by BackendCredentials, if it is one. */
export function runtimeOf(provider: unknown): Runtime | undefined {
  return typeof provider === "object" && provider !== null ? runtimes.get(provider) : undefined;
}

/** @internal The runtime of the provider with id `id` among `providers`. */
export function runtimeFor(providers: readonly unknown[], id: string): Runtime | undefined {
  for (const provider of providers) {
    const runtime = runtimeOf(provider);
    if (runtime?.options.id === id) return runtime;
  }
  return undefined;
}
