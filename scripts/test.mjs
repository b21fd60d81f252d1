#!/usr/bin/env node
// `npm test`: every check and every test, in the order that fails fastest.
// System packages the tests need (redis-server, chromium, and Django REST framework with SimpleJWT
// for the system Python, test/servers/django) are installed with apt-get when running as root;
// otherwise the run stops with one line naming the packages to install.
import { spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, rmSync } from "node:fs";
import { ensureSystemPackages } from "./system-packages.mjs";

// The Python the Django test server runs with (test/harness/django-server.ts): Debian's own, not
// whatever python3 comes first on PATH (a pyenv or venv one would not see the Debian packages).
const PYTHON = "/usr/bin/python3";
const pythonImports = (module) => [PYTHON, "-c", `import ${module}`];

ensureSystemPackages([
  { binary: "redis-server", pkg: "redis-server" },
  { binary: "chromium", pkg: "chromium" },
  { check: pythonImports("django"), pkg: "python3-django" },
  { check: pythonImports("rest_framework"), pkg: "python3-djangorestframework" },
  {
    check: pythonImports("rest_framework_simplejwt"),
    pkg: "python3-djangorestframework-simplejwt",
  },
]);

// Each vitest run also writes a JSON report; the totals end the output as one plain line.
const REPORTS = ["test-results/report-unit.json", "test-results/report-e2e.json"];
mkdirSync("test-results", { recursive: true });
for (const report of REPORTS) rmSync(report, { force: true });

const steps = [
  ["lint", "npx", ["biome", "check", "."]],
  ["typecheck", "npx", ["tsc", "-p", "tsconfig.json", "--noEmit"]],
  ["layers (import circles, upward imports)", "npm", ["run", "lint:deps", "--silent"]],
  ["unused exports and files", "npm", ["run", "lint:unused", "--silent"]],
  ["build", "npm", ["run", "build", "--silent"]],
  ["publint", "npm", ["run", "lint:package", "--silent"]],
  [
    "unit and integration tests",
    "npx",
    ["vitest", "run", "--reporter=default", "--reporter=json", `--outputFile.json=${REPORTS[0]}`],
  ],
  [
    "example app: build and browser tests",
    "node",
    ["scripts/e2e.mjs", "--reporter=verbose", "--reporter=json", `--outputFile.json=${REPORTS[1]}`],
  ],
];

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

let passed = 0;
let failed = 0;
for (const report of REPORTS) {
  const { numPassedTests, numFailedTests } = JSON.parse(readFileSync(report, "utf8"));
  passed += numPassedTests;
  failed += numFailedTests;
}
console.log(`\ntests: ${passed} passed, ${failed} failed`);
if (failed > 0 || passed === 0) process.exit(1);
