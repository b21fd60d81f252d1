import { fileURLToPath } from "node:url";

// The repository root: `authjs-backend-credentials` is linked from there (npm workspaces hoist
// `node_modules/authjs-backend-credentials -> ..`), and Turbopack does not resolve files outside
// its root. `outputFileTracingRoot` must match `turbopack.root`.
const repositoryRoot = fileURLToPath(new URL("..", import.meta.url));

/** @type {import("next").NextConfig} */
const nextConfig = {
  turbopack: { root: repositoryRoot },
  outputFileTracingRoot: repositoryRoot,
  poweredByHeader: false,
  reactStrictMode: true,
};

export default nextConfig;
