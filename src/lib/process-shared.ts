/**
 * Version of the state kept on `globalThis`. Bump it whenever the shape of anything stored through
 * {@link processShared} changes, so two versions of this package loaded in one process never read
 * each other's state.
 */
const STATE_VERSION = 1;

const REGISTRY = Symbol.for(`authjs-backend-credentials.process-state.v${STATE_VERSION}`);

/**
 * @internal One value per `key` for the whole process, created on first use.
 *
 * Bundlers load a library once per bundle, not once per process: a Next.js build has separate
 * chunks for the proxy, the route handlers and server rendering, each with its own module-level
 * variables. State that must be shared by every copy of this package in a process (single flight,
 * the grace cache, refreshes still in flight) lives here, on `globalThis` under a `Symbol.for` key
 * that every copy computes alike.
 */
export function processShared<T>(key: string, create: () => T): T {
  const holder = globalThis as { [REGISTRY]?: Map<string, unknown> };
  let registry = holder[REGISTRY];
  if (!registry) {
    registry = new Map();
    Object.defineProperty(holder, REGISTRY, { value: registry, enumerable: false });
  }
  if (!registry.has(key)) registry.set(key, create());
  return registry.get(key) as T;
}
