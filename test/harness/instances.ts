/**
 * App instances in child processes for the multi-process Redis tests and the benchmark: each runs
 * test/fixtures/instance.ts (its own `Auth()` with a `RedisCoordinator` behind a loopback server).
 */
import { type ChildProcess, fork } from "node:child_process";
import { fileURLToPath } from "node:url";
import type { InstanceMessage, ParentMessage } from "../fixtures/instance.js";
import { SECRET } from "./constants.js";

const INSTANCE = fileURLToPath(new URL("../fixtures/instance.ts", import.meta.url));

/** Instances not stopped yet, each with the promise of its exit. */
const spawned = new Map<ChildProcess, Promise<void>>();

const isRunning = (child: ChildProcess) => child.exitCode === null && child.signalCode === null;

/** SIGKILLs every instance spawned so far; resolves once they have exited. */
export async function stopInstances(): Promise<void> {
  const exits = [...spawned].map(([child, exited]) => {
    spawned.delete(child);
    if (isRunning(child)) child.kill("SIGKILL");
    return exited;
  });
  await Promise.all(exits);
}

export interface Instance {
  /** Every log line of the instance (provider, coordinator and Auth.js). */
  lines: string[];
  /** `GET /auth/session` with this cookie header. */
  session(cookie: string): Promise<Response>;
  /** Resolves at the next IPC message of this type. */
  next(type: InstanceMessage["type"]): Promise<void>;
  /** Moves the instance's clock forward; resolves once it has. */
  advance(seconds: number): Promise<void>;
  /** SIGKILL, resolved once the process has exited. */
  kill(): Promise<void>;
}

/**
 * Forks an app instance and waits until it listens. `env` adds to the instance's environment
 * (BACKEND_URL, REDIS_PORT and REDIS_PREFIX at least; AUTH_SECRET is the test secret). Every
 * instance is ended by {@link stopInstances}, or earlier by its own `kill()`.
 */
export async function spawnInstance(env: Record<string, string>): Promise<Instance> {
  const child = fork(INSTANCE, [], {
    execArgv: ["--import", "tsx"],
    env: { ...process.env, AUTH_SECRET: SECRET, ...env },
    stdio: ["ignore", "pipe", "pipe", "ipc"],
  });
  let output = "";
  child.stdout?.on("data", (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on("data", (chunk: Buffer) => (output += chunk.toString()));
  const lines: string[] = [];
  const waiters: Array<{ type: string; resolve: () => void }> = [];
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  spawned.set(child, exited);
  let port = 0;
  child.on("message", (message: InstanceMessage) => {
    if (message.type === "log") lines.push(message.line);
    if (message.type === "ready") port = message.port;
    for (const waiter of waiters.filter((w) => w.type === message.type)) {
      waiters.splice(waiters.indexOf(waiter), 1);
      waiter.resolve();
    }
  });
  const next = (type: string) =>
    new Promise<void>((resolve, reject) => {
      waiters.push({ type, resolve });
      exited.then(() => reject(new Error(`instance exited before "${type}": ${output.trim()}`)));
    });
  await next("ready");
  return {
    lines,
    next,
    advance(seconds) {
      const advanced = next("advanced");
      child.send({ type: "advance", seconds } satisfies ParentMessage);
      return advanced;
    },
    session: (cookie) => fetch(`http://127.0.0.1:${port}/auth/session`, { headers: { cookie } }),
    async kill() {
      if (isRunning(child)) child.kill("SIGKILL");
      await exited;
    },
  };
}
