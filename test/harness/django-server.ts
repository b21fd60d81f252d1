/**
 * Starts the Django REST framework + djangorestframework-simplejwt backend of test/servers/django/
 * (Debian's python3-django, python3-djangorestframework, python3-djangorestframework-simplejwt,
 * run by the system `/usr/bin/python3`) on a free loopback port, with its SQLite database in a
 * temporary directory. `stop()` and `restart()` model an outage: the same port, database and
 * signing key, so tokens issued before it stay valid (or blacklisted) after it.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { freePort } from "./ports.js";

/** The user the server creates at start (Django's `User` fields). */
export const DJANGO_USER = {
  username: "ada",
  password: "ada-password",
  email: "ada@example.com",
  first_name: "Ada",
  last_name: "Lovelace",
} as const;

export interface DjangoServer {
  /** e.g. `http://127.0.0.1:41234` (no trailing slash). */
  url: string;
  port: number;
  /** `true` between a (re)start and the next `stop()`. */
  readonly running: boolean;
  /** Stops the server (SIGTERM) and waits for it to exit; the database is kept. Idempotent. */
  stop(): Promise<void>;
  /** Stops it if running, then starts it again on the same port and database; resolves once it answers. */
  restart(): Promise<void>;
  /** Stops it and deletes its database. Idempotent. */
  close(): Promise<void>;
}

const PYTHON = "/usr/bin/python3";
const SERVE = fileURLToPath(new URL("../servers/django/serve.py", import.meta.url));
const PACKAGES = "python3-django python3-djangorestframework python3-djangorestframework-simplejwt";
const MISSING = `Django REST framework with SimpleJWT is not importable by ${PYTHON}: install ${PACKAGES} (npm test installs them as root)`;
const START_TIMEOUT_MS = 30_000;

/**
 * Starts the Django backend (migrations applied, {@link DJANGO_USER} created) and resolves once it
 * answers HTTP. `accessTokenLifetimeSeconds` sets SimpleJWT's `ACCESS_TOKEN_LIFETIME` (default
 * 300 s, SimpleJWT's own default).
 */
export async function startDjango(
  options: { accessTokenLifetimeSeconds?: number } = {},
): Promise<DjangoServer> {
  const dir = await mkdtemp(join(tmpdir(), "django-test-"));
  // A PYTHONPATH or PYTHONHOME meant for another Python (pyenv, a venv) must not reach Debian's.
  const { PYTHONPATH: _path, PYTHONHOME: _home, ...inherited } = process.env;
  const env = {
    ...inherited,
    DJANGO_DB_PATH: join(dir, "db.sqlite3"),
    DJANGO_SECRET_KEY: randomBytes(32).toString("hex"),
    DJANGO_USER: JSON.stringify(DJANGO_USER),
    ACCESS_TOKEN_LIFETIME_SECONDS: String(options.accessTokenLifetimeSeconds ?? 300),
    PYTHONDONTWRITEBYTECODE: "1", // no __pycache__ in the repository
    PYTHONUNBUFFERED: "1",
  };
  let child: ChildProcess | undefined;
  let port = 0;
  let lastError: unknown;
  // A free port can be taken between probing and binding: try a few.
  for (let attempt = 0; attempt < 3 && !child; attempt++) {
    port = await freePort();
    try {
      child = await launch(port, env);
    } catch (error) {
      lastError = error;
      if (!(error instanceof Error && /Address already in use/.test(error.message))) break;
    }
  }
  if (!child) {
    await rm(dir, { recursive: true, force: true });
    throw lastError;
  }
  let current: ChildProcess | undefined = child;
  const stop = async () => {
    const running = current;
    current = undefined;
    if (running) await terminate(running);
  };
  let closing: Promise<void> | undefined;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    get running() {
      return current !== undefined;
    },
    stop,
    async restart() {
      if (closing) throw new Error("startDjango: restart() after close()");
      await stop();
      current = await launch(port, env);
    },
    close() {
      closing ??= stop().then(() => rm(dir, { recursive: true, force: true }));
      return closing;
    },
  };
}

/**
 * Spawns serve.py on `port`; resolves once it has bound the port (its `listening on` line) and
 * answered one request as Django (401 JSON from the profile endpoint). Kills it on failure.
 */
async function launch(port: number, env: NodeJS.ProcessEnv): Promise<ChildProcess> {
  const child = spawn(PYTHON, [SERVE], {
    env: { ...env, PORT: String(port), EXIT_ON_STDIN_EOF: "1" },
    // Our end of stdin closes when this process dies: the server then exits too (serve.py).
    stdio: ["pipe", "pipe", "pipe"],
  });
  let output = "";
  let onOutput = () => {};
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-4000);
    onOutput();
  };
  child.stdout?.on("data", keep);
  child.stderr?.on("data", keep);
  const listening = `listening on 127.0.0.1:${port}`;
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    await new Promise<void>((resolve, reject) => {
      timer = setTimeout(
        () => reject(new Error(`not listening within ${START_TIMEOUT_MS} ms`)),
        START_TIMEOUT_MS,
      );
      onOutput = () => {
        if (output.includes(listening)) resolve();
      };
      child.once("error", reject);
      child.once("exit", (code, signal) => reject(new Error(`exited with ${code ?? signal}`)));
    });
    const response = await fetch(`http://127.0.0.1:${port}/api/users/me/`, {
      signal: AbortSignal.timeout(START_TIMEOUT_MS),
    });
    const body = (await response.json()) as { detail?: unknown };
    if (response.status !== 401 || typeof body.detail !== "string") {
      throw new Error(`unexpected first answer ${response.status}`);
    }
    return child;
  } catch (error) {
    await terminate(child, "SIGKILL");
    if (/ModuleNotFoundError|ENOENT/.test(`${output} ${error}`)) throw new Error(MISSING);
    throw new Error(`Django did not start on port ${port}: ${output.trim()}`, { cause: error });
  } finally {
    clearTimeout(timer);
    onOutput = () => {};
  }
}

async function terminate(child: ChildProcess, signal: NodeJS.Signals = "SIGTERM"): Promise<void> {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  child.kill(signal);
  await exited;
}
