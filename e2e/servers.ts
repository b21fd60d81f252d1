import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { createWriteStream, existsSync, mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { freePort } from "../test/harness/ports.js";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
const APP_DIR = join(ROOT, "example-app");
export const RESULTS_DIR = join(ROOT, "test-results");

/** Token lifetimes of the backend under test, in seconds. */
export const ACCESS_TOKEN_TTL = 6;
const REFRESH_TOKEN_TTL = 60;

/** A child process whose output is kept in memory (and mirrored to a log file). */
export interface Child {
  process: ChildProcess;
  output(): string;
  stop(): Promise<void>;
}

function startChild(
  command: string,
  args: string[],
  options: { cwd: string; env: NodeJS.ProcessEnv; logFile: string },
): Child {
  mkdirSync(dirname(options.logFile), { recursive: true });
  const log = createWriteStream(options.logFile);
  let output = "";
  // Own process group, so stop() also ends anything the child starts.
  const child = spawn(command, args, {
    cwd: options.cwd,
    env: options.env,
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
  const keep = (chunk: Buffer) => {
    output += chunk.toString();
    log.write(chunk);
  };
  child.stdout?.on("data", keep);
  child.stderr?.on("data", keep);
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  return {
    process: child,
    output: () => output,
    async stop() {
      if (child.exitCode === null && child.signalCode === null && child.pid) {
        try {
          process.kill(-child.pid, "SIGTERM");
        } catch {
          // already gone
        }
        const timer = setTimeout(() => {
          try {
            if (child.pid) process.kill(-child.pid, "SIGKILL");
          } catch {
            // already gone
          }
        }, 5_000);
        await exited;
        clearTimeout(timer);
      }
      await new Promise<void>((resolve) => log.end(resolve));
    },
  };
}

async function waitFor<T>(
  what: string,
  child: Child,
  check: () => Promise<T | undefined> | T | undefined,
  timeoutMs: number,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.process.exitCode !== null) {
      throw new Error(`${what} exited with ${child.process.exitCode}:\n${child.output()}`);
    }
    const value = await check();
    if (value !== undefined) return value;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`${what} not ready after ${timeoutMs} ms:\n${child.output()}`);
}

/** Starts the reference backend (CLI) with the control API on an ephemeral port. */
export async function startBackend(): Promise<Child & { url: string }> {
  const child = startChild(process.execPath, [join(APP_DIR, "backend", "server.mjs")], {
    cwd: ROOT,
    env: {
      ...process.env,
      HOST: "127.0.0.1",
      PORT: "0",
      CONTROL: "1",
      ACCESS_TOKEN_TTL: String(ACCESS_TOKEN_TTL),
      REFRESH_TOKEN_TTL: String(REFRESH_TOKEN_TTL),
    },
    logFile: join(RESULTS_DIR, "backend.log"),
  });
  const url = await waitFor(
    "backend",
    child,
    () => /backend listening on (http:\/\/\S+)/.exec(child.output())?.[1],
    15_000,
  );
  return { ...child, url };
}

/**
 * Starts the example app against `backendUrl`: `next start` of the build (`mode: "start"`), or
 * `next dev` (`mode: "dev"`, which compiles each route on first use and keeps its output apart
 * from the production build). Output goes to test-results/app-server.log (app-dev-server.log).
 */
export async function startApp(
  backendUrl: string,
  mode: "start" | "dev" = "start",
  {
    dir = APP_DIR,
    name = "app",
    readyPath = "/",
  }: { dir?: string; name?: string; readyPath?: string } = {},
): Promise<Child & { url: string; logFile: string; secret: string }> {
  if (mode === "start" && !existsSync(join(dir, ".next", "BUILD_ID"))) {
    throw new Error("example-app is not built: run `node scripts/e2e.mjs` (it runs `next build`)");
  }
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const nextBin = join(ROOT, "node_modules", "next", "dist", "bin", "next");
  const logFile = join(
    RESULTS_DIR,
    mode === "start" ? `${name}-server.log` : `${name}-dev-server.log`,
  );
  const secret = randomBytes(32).toString("base64url");
  const child = startChild(
    process.execPath,
    [nextBin, mode, "--port", String(port), "--hostname", "127.0.0.1"],
    {
      cwd: dir,
      env: {
        ...process.env,
        NODE_ENV: mode === "start" ? "production" : "development",
        NEXT_TELEMETRY_DISABLED: "1",
        BACKEND_URL: backendUrl,
        AUTH_SECRET: secret,
        AUTH_TRUST_HOST: "true",
        REDIS_URL: "",
      },
      logFile,
    },
  );
  await waitFor(
    `next ${mode}`,
    child,
    async () => {
      try {
        const response = await fetch(`${url}${readyPath}`, { redirect: "manual" });
        await response.body?.cancel();
        return response.status === 200 ? true : undefined;
      } catch {
        return undefined;
      }
    },
    mode === "start" ? 60_000 : 180_000,
  );
  return { ...child, url, logFile, secret };
}

/**
 * `next build` of the app in `dir` (production), its output in test-results/<name>-build.log.
 * Rejects with the log's tail when the build fails.
 */
export async function buildApp(
  dir: string,
  name: string,
  env: NodeJS.ProcessEnv = {},
): Promise<void> {
  const nextBin = join(ROOT, "node_modules", "next", "dist", "bin", "next");
  const logFile = join(RESULTS_DIR, `${name}-build.log`);
  const child = startChild(process.execPath, [nextBin, "build"], {
    cwd: dir,
    env: { ...process.env, NODE_ENV: "production", NEXT_TELEMETRY_DISABLED: "1", ...env },
    logFile,
  });
  const code = await new Promise<number | null>((resolve) =>
    child.process.once("exit", (exitCode) => resolve(exitCode)),
  );
  if (code !== 0) throw new Error(`next build of ${name} failed:\n${child.output().slice(-3000)}`);
}

/** The repository root (for apps built inside it, e.g. from the README). */
export const REPOSITORY_ROOT = ROOT;
