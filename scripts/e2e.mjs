#!/usr/bin/env node
// Browser tests of the example app: builds the library (if dist/ is missing) and the app
// (`next build`, production), then runs e2e/**/*.e2e.ts with Vitest in Debian's Chromium.
// The suite starts the reference backend and `next start` itself (e2e/global-setup.ts).
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const chromium = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

if (!existsSync(chromium)) {
  console.error(
    `e2e: ${chromium} not found; install the Debian package chromium (apt-get install -y chromium)`,
  );
  process.exit(1);
}

function run(name, command, args, options = {}) {
  console.log(`\n▶ e2e: ${name}`);
  const started = Date.now();
  const result = spawnSync(command, args, { cwd: root, stdio: "inherit", ...options });
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  if (result.status !== 0) {
    console.error(
      `✖ e2e: ${name} failed after ${seconds}s (exit ${result.status ?? result.signal})`,
    );
    process.exit(result.status || 1);
  }
  console.log(`✔ e2e: ${name} (${seconds}s)`);
}

if (!existsSync(join(root, "dist", "next", "index.js"))) {
  run("build the library", "npm", ["run", "build", "--silent"]);
}
run(
  "next build (example-app)",
  process.execPath,
  [join(root, "node_modules", "next", "dist", "bin", "next"), "build"],
  {
    cwd: join(root, "example-app"),
    env: { ...process.env, NEXT_TELEMETRY_DISABLED: "1", NODE_ENV: "production" },
  },
);
run("browser tests", process.execPath, [
  join(root, "node_modules", "vitest", "vitest.mjs"),
  "run",
  "--config",
  "vitest.e2e.config.ts",
  ...process.argv.slice(2),
]);
