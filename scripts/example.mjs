#!/usr/bin/env node
// `npm run example`: builds the library, starts the reference backend and the example app
// (`next dev`, or `next build` + `next start` with --prod), prints where to go, and stops both
// on Ctrl-C / SIGTERM.
//
// Environment: BACKEND_URL (default http://127.0.0.1:4000; the reference backend is started there
// unless it points to another host), PORT (app, default 3000), AUTH_SECRET (random when unset),
// ACCESS_TOKEN_TTL (default 10 s) and REFRESH_TOKEN_TTL (default 60 s) for the backend, REDIS_URL
// (optional: share refreshes between app instances).
import { spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const appDir = join(root, "example-app");
const nextBin = join(root, "node_modules", "next", "dist", "bin", "next");
const production = process.argv.includes("--prod");

const backendUrl = new URL(process.env.BACKEND_URL || "http://127.0.0.1:4000");
const startOwnBackend = ["127.0.0.1", "localhost", "[::1]"].includes(backendUrl.hostname);
const appPort = process.env.PORT || "3000";
const appUrl = `http://localhost:${appPort}`;
const accessTtl = process.env.ACCESS_TOKEN_TTL || "10";
const refreshTtl = process.env.REFRESH_TOKEN_TTL || "60";
const control = process.env.CONTROL ?? "1";
const generatedSecret = !process.env.AUTH_SECRET;
const appEnv = {
  ...process.env,
  BACKEND_URL: backendUrl.href.replace(/\/$/, ""),
  AUTH_SECRET: process.env.AUTH_SECRET || randomBytes(32).toString("base64url"),
  AUTH_TRUST_HOST: process.env.AUTH_TRUST_HOST || "true",
  NEXT_TELEMETRY_DISABLED: "1",
  PORT: appPort,
};

/** @type {import("node:child_process").ChildProcess[]} */
const children = [];
let stopping = false;

function step(name, command, args, options = {}) {
  console.log(`▶ ${name}`);
  const result = spawnSync(command, args, { cwd: root, stdio: "inherit", ...options });
  if (result.status !== 0) {
    console.error(`✖ ${name} failed (exit ${result.status ?? result.signal})`);
    process.exit(result.status || 1);
  }
}

function start(name, args, options) {
  // Own process group: stop() ends the child and anything it started (Next.js workers).
  const child = spawn(process.execPath, args, { stdio: "inherit", detached: true, ...options });
  children.push(child);
  child.on("exit", (code, signal) => {
    if (stopping) return;
    console.error(`✖ ${name} exited (${code ?? signal}); stopping`);
    void stop(code || 1);
  });
  return child;
}

async function stop(exitCode = 0) {
  if (stopping) return;
  stopping = true;
  await Promise.all(
    children.map(
      (child) =>
        new Promise((resolve) => {
          if (child.exitCode !== null || child.signalCode !== null || !child.pid) {
            resolve(undefined);
            return;
          }
          child.once("exit", resolve);
          try {
            process.kill(-child.pid, "SIGTERM");
          } catch {
            resolve(undefined);
          }
          setTimeout(() => {
            try {
              process.kill(-child.pid, "SIGKILL");
            } catch {
              // already gone
            }
          }, 5_000).unref();
        }),
    ),
  );
  process.exit(exitCode);
}

process.on("SIGINT", () => void stop(0));
process.on("SIGTERM", () => void stop(0));
// `npm run example` runs us under `sh -c`, which does not pass SIGTERM on: stop when orphaned.
const parentPid = process.ppid;
setInterval(() => {
  if (process.ppid !== parentPid) void stop(0);
}, 1_000).unref();

async function waitForHttp(url, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline && !stopping) {
    try {
      const response = await fetch(url, { redirect: "manual" });
      await response.body?.cancel().catch(() => {});
      if (response.status < 500) return true;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  return false;
}

step("build the library (npm run build)", "npm", ["run", "build", "--silent"]);
if (production) {
  step("next build (example-app)", process.execPath, [nextBin, "build"], {
    cwd: appDir,
    env: { ...appEnv, NODE_ENV: "production" },
  });
}

if (startOwnBackend) {
  start("backend", [join(appDir, "backend", "server.mjs")], {
    cwd: root,
    env: {
      ...process.env,
      HOST: backendUrl.hostname.replace(/^\[|\]$/g, ""),
      PORT: backendUrl.port || "80",
      ACCESS_TOKEN_TTL: accessTtl,
      REFRESH_TOKEN_TTL: refreshTtl,
      CONTROL: control,
    },
  });
  if (!(await waitForHttp(`${backendUrl.origin}/users/me`, 15_000))) {
    console.error(`✖ the backend did not start on ${backendUrl.origin}`);
    await stop(1);
  }
}

start("app", [nextBin, production ? "start" : "dev", "--port", appPort], {
  cwd: appDir,
  env: production ? { ...appEnv, NODE_ENV: "production" } : appEnv,
});
// In dev mode the first request compiles the page; warm up the sign-in page too.
const ready = await waitForHttp(`http://127.0.0.1:${appPort}/`, 120_000);
if (!ready) {
  console.error("✖ the app did not answer within 120 s");
  await stop(1);
}
await waitForHttp(`http://127.0.0.1:${appPort}/signin`, 60_000);

console.log(`
  Example app:  ${appUrl}   (${production ? "next start" : "next dev"})
  Backend:      ${backendUrl.origin}${startOwnBackend ? `   (access token ${accessTtl} s, session ${refreshTtl} s)` : ""}

  Sign in with  admin@example.com / admin-password   (role admin)
           or   user@example.com / user-password     (role user)
${generatedSecret ? "\n  AUTH_SECRET was generated for this run: sessions end when you restart.\n" : ""}${
  startOwnBackend && control !== "0"
    ? `  End every session at the backend: curl -X POST ${backendUrl.origin}/__control/revoke\n`
    : ""
}
  Ctrl-C stops both.
`);
