#!/usr/bin/env node
// `npm test`: every check and every test, in the order that fails fastest.
// System programs the tests need (redis-server, chromium) are installed with apt-get when running
// as root; otherwise the run stops with one line naming the package to install.
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { ensureSystemPackages } from "./system-packages.mjs";

ensureSystemPackages([
  { binary: "redis-server", pkg: "redis-server" },
  { binary: "chromium", pkg: "chromium" },
]);

const steps = [
  ["lint", "npx", ["biome", "check", "."]],
  ["typecheck", "npx", ["tsc", "-p", "tsconfig.json", "--noEmit"]],
  ["build", "npm", ["run", "build", "--silent"]],
  ["publint", "npx", ["publint", "--strict"]],
  ["unit and integration tests", "npx", ["vitest", "run"]],
];
if (existsSync("example-app/package.json")) {
  steps.push(["example app: build and browser tests", "node", ["scripts/e2e.mjs"]]);
}

for (const [name, command, args] of steps) {
  console.log(`\n▶ ${name}: ${command} ${args.join(" ")}`);
  const started = Date.now();
  const result = spawnSync(command, args, { stdio: "inherit" });
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  if (result.status !== 0) {
    console.error(`✖ ${name} failed after ${seconds}s (exit ${result.status ?? result.signal})`);
    process.exit(result.status || 1);
  }
  console.log(`✔ ${name} (${seconds}s)`);
}
