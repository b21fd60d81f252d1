import { fileURLToPath } from "node:url";

/**
 * The Next.js config both bench apps use: the repository root as Turbopack's root (the library
 * is linked from there), as in example-app/next.config.mjs.
 */
export const benchNextConfig = {
  turbopack: { root: fileURLToPath(new URL("../..", import.meta.url)) },
  outputFileTracingRoot: fileURLToPath(new URL("../..", import.meta.url)),
  poweredByHeader: false,
};
