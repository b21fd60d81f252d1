/**
 * Soak: many signed-in sessions refresh concurrently through the real `Auth()` against the
 * reference backend (strict: rotated refresh tokens are single-use, reuse revokes the family),
 * with short access-token lifetimes and random faults on the refresh endpoint.
 *
 *   npm run soak                                  # 60 s, 200 sessions
 *   SOAK_SECONDS=150 SOAK_SESSIONS=300 npm run soak
 *   SOAK_STRESS=3 npm run soak                    # the same on a CPU-starved machine
 *
 * Environment (all optional): SOAK_SECONDS (default 60, at most 150; the whole run stays under
 * 3 minutes), SOAK_SESSIONS (200), SOAK_TTL (access-token lifetime, seconds; 6), SOAK_FAULT_RATE
 * (share of refreshes that meet a fault; 0.3), SOAK_REJECT_SHARE (share of those faults that are a
 * definitive 401 invalid_grant; 0.02), SOAK_MAX_ENTRIES (MemoryCoordinator bound; 10000),
 * SOAK_SEED (seed of the fault mix and the users' timing choices; random, printed), SOAK_GRACE
 * (the provider's gracePeriodSeconds; the library default), SOAK_STRESS
 * (number of CPU-burning child processes running for the whole run, to starve this process of
 * CPU the way a busy host would; 0, at most 32; they are killed when the run ends, however it
 * ends, and each also exits on its own once this process is gone).
 *
 * Faults: 503, 429 with Retry-After, dropped connections, delays below the timeout, timeouts
 * (the backend hangs past `timeoutMs`, then drops without processing), late rotations (the
 * backend rotates, then answers after `timeoutMs` but well before `lateAnswerLimitMs`), and a few
 * definitive rejections. A late rotation is included because the provider keeps the backend call
 * going past `timeoutMs` for up to `lateAnswerLimitMs` and shares its rotation through the grace
 * cache: the next request carrying the old refresh token gets the new tokens, so it must show up
 * neither as `lost` nor as `reuse`. Still not included: a response lost entirely *after* the
 * backend rotated (`afterRotation`: the connection drops once the rotation is done, or an answer
 * later than `lateAnswerLimitMs`). Nothing reaches us, so the next request presents the retired
 * refresh token; on a strict backend that legitimately ends the session through reuse detection
 * (inherent to rotation; see README, Security) and would show up as `reuse>0`. It is covered by
 * `test/refresh-failures.test.ts` instead.
 *
 * At the end every session must be either valid (a session read without error whose access token
 * the backend accepts) or ended for a definitive reason (`RefreshTokenRejected`, …). A session is
 * lost if it was ever signed out, answered 5xx, wrote an older token after a newer one, or is
 * neither valid nor definitively ended at the end. Exits non-zero when lost > 0, reuse > 0 or the
 * in-process cache exceeded its bound. Before it, lines count the late rotations injected against
 * the late answers the provider kept (its `lateAnswerRecovered` event), and its other `events`
 * (refreshSucceeded, refreshFailed by reason). The last line is
 * `sessions=N valid=N ended=N lost=N reuse=N`.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { monitorEventLoopDelay } from "node:perf_hooks";
import type { AuthConfig } from "@auth/core";
import { type Fault, startBackend } from "../example-app/backend/server.mjs";
import {
  BackendAuthError,
  BackendCredentials,
  type BackendSessionError,
  getBackendAuth,
  MemoryCoordinator,
  TERMINAL_SESSION_ERRORS,
  withBackend,
} from "../src/index.js";
import { ADMIN, AuthClient, EVALUATOR, ORIGIN, SECRET, USER } from "../test/harness/index.js";

function numberFromEnv(name: string, fallback: number, max = Number.POSITIVE_INFINITY): number {
  const raw = process.env[name];
  const value = raw === undefined || raw === "" ? fallback : Number(raw);
  if (!Number.isFinite(value) || value < 0) throw new TypeError(`${name} must be a number >= 0`);
  return Math.min(value, max);
}

const SECONDS = numberFromEnv("SOAK_SECONDS", 60, 150);
const SESSIONS = Math.max(1, Math.round(numberFromEnv("SOAK_SESSIONS", 200)));
const TTL = Math.max(2, numberFromEnv("SOAK_TTL", 6));
const FAULT_RATE = numberFromEnv("SOAK_FAULT_RATE", 0.3, 1);
const REJECT_SHARE = numberFromEnv("SOAK_REJECT_SHARE", 0.02, 1);
const MAX_ENTRIES = Math.max(1, Math.round(numberFromEnv("SOAK_MAX_ENTRIES", 10_000)));
/** SOAK_GRACE: the provider's gracePeriodSeconds (unset: the library default). */
const GRACE = process.env.SOAK_GRACE === undefined ? undefined : numberFromEnv("SOAK_GRACE", 0);
const SEED = Math.round(numberFromEnv("SOAK_SEED", Math.floor(Math.random() * 2 ** 31)));
const STRESS = Math.round(numberFromEnv("SOAK_STRESS", 0, 32));
/**
 * Refresh timeout (how long a request waits). Generous, so that mostly injected faults time out;
 * a refresh that times out because this process is busy is a late answer like the injected ones.
 */
const TIMEOUT_MS = 3_000;
/**
 * How long after `TIMEOUT_MS` a refresh may still answer and have its rotation kept. Well above
 * the injected late answers (at most `TIMEOUT_MS + 2500` ms in all) and event-loop stalls under
 * SOAK_STRESS: the soak relies on every late rotation landing before this limit.
 */
const LATE_ANSWER_LIMIT_MS = 10_000;
/** How long the final check waits for sessions in a transient state to recover. */
const SETTLE_MS = 15_000;

/**
 * mulberry32: a small seeded PRNG. SOAK_SEED replays the same choices (faults, pauses, tabs);
 * which request meets which fault still depends on timing.
 */
function prng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const random = prng(SEED);
const between = (min: number, max: number) => min + Math.floor(random() * (max - min + 1));
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A random fault for the refresh endpoint, by kind. */
function randomFault(): [kind: string, fault: Fault] {
  if (random() < REJECT_SHARE) {
    return ["rejected 401", { status: 401, body: { error: "invalid_grant" } }];
  }
  const roll = random();
  if (roll < 0.21) return ["503", { status: 503 }];
  if (roll < 0.38) {
    return ["429 Retry-After", { status: 429, headers: { "Retry-After": String(between(1, 2)) } }];
  }
  if (roll < 0.55) return ["dropped", { drop: true }];
  if (roll < 0.68) return ["delayed", { delayMs: between(100, 600) }];
  if (roll < 0.85) return ["timed out", { delayMs: TIMEOUT_MS + 300, drop: true }];
  // Rotated at the backend, answered after the timeout but before the late limit.
  return ["late rotation", { answerDelayMs: between(TIMEOUT_MS + 200, TIMEOUT_MS + 2500) }];
}

/**
 * A busy loop for a child process. Many times a second it checks that its parent still
 * exists (signal 0), so even a parent killed with SIGKILL leaves no CPU burner behind for long.
 */
const BURN = `const parent = process.ppid; let x = 0;
for (;;) {
  for (let i = 0; i < 5e7; i++) x ^= i;
  try { process.kill(parent, 0); } catch { process.exit(0); }
}`;

/** The CPU burners of SOAK_STRESS; see {@link startStress}. */
const burners: ChildProcess[] = [];

/**
 * Kills the CPU burners (the kill is synchronous and idempotent: safe in an `exit` handler).
 * Resolves once they have exited and been reaped, or after a second.
 */
function stopStress(): Promise<void> {
  const exited = burners.splice(0).map((child) => {
    if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
    const gone = new Promise<void>((resolve) => child.once("exit", () => resolve()));
    child.kill("SIGKILL");
    return gone;
  });
  return Promise.race([Promise.all(exited), sleep(1_000)]).then(() => {});
}

/** Starts `count` CPU burners, killed by {@link stopStress} on every way out of this process. */
function startStress(count: number): void {
  if (count === 0) return;
  process.once("exit", () => void stopStress());
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
    process.once(signal, () => {
      void stopStress();
      process.exit(128 + (signal === "SIGHUP" ? 1 : signal === "SIGINT" ? 2 : 15));
    });
  }
  for (let i = 0; i < count; i++) {
    const child = spawn(process.execPath, ["-e", BURN], { stdio: "ignore" });
    child.on("error", (error) => console.error(`soak: stress process failed: ${error.message}`));
    burners.push(child);
  }
}

interface SessionRecord {
  id: number;
  browser: AuthClient;
  /** Newest `receivedAt` the browser has held. */
  newest: number;
  ended?: BackendSessionError;
  lostBecause?: string;
  valid?: boolean;
}

async function main(): Promise<number> {
  startStress(STRESS);
  try {
    return await soak();
  } finally {
    await stopStress();
  }
}

async function soak(): Promise<number> {
  const started = Date.now();
  const backend = await startBackend({ accessTokenTtlSeconds: TTL, tokenPlacement: "mixed" });
  const coordinator = new MemoryCoordinator({ maxEntries: MAX_ENTRIES });
  const logCounts = new Map<string, number>();
  const count = (message: string) => {
    const kind = message.replace(/\d+/g, "N").slice(0, 80);
    logCounts.set(kind, (logCounts.get(kind) ?? 0) + 1);
  };
  const events = {
    refreshSucceeded: 0,
    lateAnswerRecovered: 0,
    refreshFailed: new Map<string, number>(),
  };
  const config = withBackend({
    secret: SECRET,
    trustHost: true,
    basePath: "/auth",
    session: { strategy: "jwt" },
    logger: { error: (error) => count(`authjs ${error.name}`), warn: count, debug: () => {} },
    providers: [
      BackendCredentials({
        baseUrl: backend.url,
        endpoints: { logout: "/auth/logout" },
        tokens: { accessToken: { body: "accessToken" }, refreshToken: { cookie: "refresh_token" } },
        timeoutMs: TIMEOUT_MS,
        lateAnswerLimitMs: LATE_ANSWER_LIMIT_MS,
        ...(GRACE !== undefined && { gracePeriodSeconds: GRACE }),
        coordination: coordinator,
        logger: { warn: count, error: (message) => count(message) },
        events: {
          refreshSucceeded: () => {
            events.refreshSucceeded++;
          },
          refreshFailed: ({ reason, transient }) => {
            const kind = transient ? reason : `${reason} (final)`;
            events.refreshFailed.set(kind, (events.refreshFailed.get(kind) ?? 0) + 1);
          },
          lateAnswerRecovered: () => {
            events.lateAnswerRecovered++;
          },
        },
      }),
    ],
  }) as AuthConfig;

  // Sign everyone in (no faults yet), a few at a time.
  const users = [ADMIN, USER, EVALUATOR];
  const sessions: SessionRecord[] = [];
  for (let i = 0; i < SESSIONS; i += 20) {
    const batch = Array.from({ length: Math.min(20, SESSIONS - i) }, async (_, j) => {
      const browser = new AuthClient(config);
      const response = await browser.signIn(users[(i + j) % users.length]!);
      if (response.status !== 302 || response.headers.get("location")?.includes("error")) {
        throw new Error(`sign-in ${i + j} failed: ${response.headers.get("location")}`);
      }
      const token = await browser.token();
      return { id: i + j, browser, newest: token?.backend?.receivedAt ?? 0 };
    });
    sessions.push(...(await Promise.all(batch)));
  }
  console.log(
    `soak: ${SESSIONS} sessions signed in; ${SECONDS} s, access tokens of ${TTL} s, ` +
      `fault rate ${FAULT_RATE}, seed ${SEED}, stress ${STRESS} CPU-burning processes`,
  );

  const lag = monitorEventLoopDelay({ resolution: 20 });
  lag.enable();
  const deadline = Date.now() + SECONDS * 1000;
  const faults = new Map<string, number>();
  let injected = 0;
  let peakEntries = 0;
  let requests = 0;
  let http5xx = 0;
  let downgrades = 0;
  /**
   * Session reads without an error whose access token had already expired (by how many seconds
   * at most): the read picked up a rotation that was no longer fresh, e.g. a late answer shared
   * through the grace cache. Not a loss (the next read refreshes) but counted, not hidden.
   */
  const expiredReads = { count: 0, maxSeconds: 0 };
  type SessionBody = { error?: BackendSessionError; accessTokenExpiresAt?: number };
  const checkExpiry = (body: SessionBody) => {
    const expiredFor = Date.now() / 1000 - (body.accessTokenExpiresAt ?? Number.POSITIVE_INFINITY);
    if (body.error !== undefined || expiredFor < 0) return;
    expiredReads.count++;
    expiredReads.maxSeconds = Math.max(expiredReads.maxSeconds, expiredFor);
  };

  /**
   * One page load, several tabs at once, or a late request: one sent with the cookie of a moment
   * ago that reaches the server after another request may have rotated the tokens (its response
   * still lands in the browser's cookie jar, last).
   */
  async function visit(session: SessionRecord, kind: "page" | "tabs" | "late"): Promise<void> {
    let responses: Response[];
    if (kind === "late") {
      // Two tabs send at once; one request is held up on the way and arrives after the other
      // (which may have rotated the tokens). Its response lands last in the cookie jar.
      const heldUp = session.browser.clone();
      responses = await Promise.all([
        session.browser.request("/session"),
        sleep(between(100, 1_500)).then(() => heldUp.request("/session")),
      ]);
      session.browser.store(responses[1]!);
    } else {
      const tabs = kind === "tabs" ? between(2, 4) : 1;
      responses = await Promise.all(
        Array.from({ length: tabs }, () => session.browser.request("/session")),
      );
    }
    const tabs = responses.length;
    requests += tabs;
    for (const response of responses) {
      if (response.status >= 500) {
        http5xx++;
        session.lostBecause ??= `HTTP ${response.status}`;
      }
      const body = (await response.json().catch(() => undefined)) as SessionBody | null | undefined;
      if (body === null || body === undefined) {
        session.lostBecause ??= "signed out without a definitive reason";
        continue;
      }
      checkExpiry(body);
      if (body.error && TERMINAL_SESSION_ERRORS.includes(body.error)) session.ended = body.error;
    }
    const receivedAt = (await session.browser.token())?.backend?.receivedAt ?? 0;
    if (!session.ended && receivedAt < session.newest) {
      downgrades++;
      session.lostBecause ??= "an older token was written after a newer one";
    }
    session.newest = Math.max(session.newest, receivedAt);
  }

  async function user(session: SessionRecord): Promise<void> {
    await sleep(between(0, 1_000));
    while (Date.now() < deadline && !session.ended && !session.lostBecause) {
      const roll = random();
      await visit(session, roll < 0.15 ? "tabs" : roll < 0.25 ? "late" : "page");
      await sleep(between(150, 900));
    }
  }

  const injector = (async () => {
    while (Date.now() < deadline) {
      const due = Math.floor(FAULT_RATE * backend.stats.refresh) - injected;
      for (let i = 0; i < Math.min(due, 5); i++) {
        const [kind, fault] = randomFault();
        backend.injectFault("refresh", fault);
        faults.set(kind, (faults.get(kind) ?? 0) + 1);
        injected++;
      }
      peakEntries = Math.max(peakEntries, coordinator.size);
      await sleep(50);
    }
  })();

  await Promise.all([injector, ...sessions.map(user)]);
  backend.clearFaults();

  // Final check: every session that has not ended must become valid once the faults stop.
  const settleBy = Date.now() + SETTLE_MS;
  await Promise.all(
    sessions.map(async (session) => {
      while (!session.ended && !session.lostBecause && Date.now() < settleBy) {
        const body = (await session.browser.session()) as SessionBody | null;
        requests++;
        if (body === null) {
          session.lostBecause = "signed out without a definitive reason";
        } else if (body.error && TERMINAL_SESSION_ERRORS.includes(body.error)) {
          session.ended = body.error;
        } else if (body.error === undefined) {
          checkExpiry(body);
          const request = new Request(`${ORIGIN}/`, {
            headers: { cookie: session.browser.cookieHeader() },
          });
          let auth: Awaited<ReturnType<typeof getBackendAuth>>;
          try {
            auth = await getBackendAuth(config, request);
          } catch (error) {
            if (!(error instanceof BackendAuthError)) throw error;
            // The read handed out an access token that has expired (counted above): read again,
            // which refreshes it. Anything else is a loss.
            if (error.code !== "RefreshUnavailable") {
              session.lostBecause = `getBackendAuth failed (${error.code})`;
              return;
            }
            await sleep(250);
            continue;
          }
          const me = new URL("/users/me", backend.url);
          const response = await fetch(me, { headers: auth.headers(me) });
          if (response.ok) session.valid = true;
          else session.lostBecause = `the backend refused the access token (${response.status})`;
          return;
        } else {
          await sleep(250); // RefreshUnavailable: the backoff (at most Retry-After 2 s) runs out
        }
      }
      if (!session.ended && !session.valid)
        session.lostBecause ??= "still not valid after settling";
    }),
  );
  peakEntries = Math.max(peakEntries, coordinator.size);

  const valid = sessions.filter((session) => session.valid && !session.lostBecause).length;
  const ended = sessions.filter((session) => session.ended && !session.lostBecause).length;
  const lost = sessions.filter((session) => session.lostBecause).length;
  const reuse = backend.stats.reuseDetected;
  const bounded = peakEntries <= MAX_ENTRIES;
  const endedReasons = new Map<string, number>();
  for (const session of sessions) {
    if (session.ended && !session.lostBecause) {
      endedReasons.set(session.ended, (endedReasons.get(session.ended) ?? 0) + 1);
    }
  }
  const format = (map: Map<string, number>) =>
    [...map].map(([key, value]) => `${key}: ${value}`).join(", ") || "none";

  console.log(
    `backend: ${backend.stats.refresh} refresh requests, ${backend.stats.refreshSucceeded} rotations, ` +
      `${backend.stats.refreshRejected} rejected, ${reuse} reuse detected`,
  );
  console.log(`faults injected: ${injected} (${format(faults)})`);
  const failed = [...events.refreshFailed.values()].reduce((sum, n) => sum + n, 0);
  console.log(
    `late rotations: ${faults.get("late rotation") ?? 0} injected (the last few may have been ` +
      `cleared unused), ${events.lateAnswerRecovered} late answers kept (lateAnswerRecovered)`,
  );
  console.log(
    `events: refreshSucceeded ${events.refreshSucceeded}, refreshFailed ${failed} ` +
      `(${format(events.refreshFailed)})`,
  );
  console.log(`session reads: ${requests}, HTTP 5xx: ${http5xx}, token downgrades: ${downgrades}`);
  console.log(
    `session reads without error but with an expired access token: ${expiredReads.count}` +
      (expiredReads.count > 0 ? ` (expired up to ${expiredReads.maxSeconds.toFixed(1)} s)` : ""),
  );
  console.log(`ended for a definitive reason: ${format(endedReasons)}`);
  for (const session of sessions.filter((s) => s.lostBecause).slice(0, 10)) {
    console.log(`lost session ${session.id}: ${session.lostBecause}`);
  }
  console.log(`log lines by kind: ${format(logCounts)}`);
  console.log(
    `MemoryCoordinator: size ${coordinator.size} now, peak ${peakEntries}, max ${MAX_ENTRIES}` +
      ` (${bounded ? "bounded" : "EXCEEDED"}); rss ${Math.round(process.memoryUsage().rss / 2 ** 20)} MiB`,
  );
  lag.disable();
  console.log(
    `event-loop delay: p99 ${Math.round(lag.percentile(99) / 1e6)} ms, max ${Math.round(lag.max / 1e6)} ms; ` +
      `duration ${((Date.now() - started) / 1000).toFixed(1)} s`,
  );
  console.log(`sessions=${SESSIONS} valid=${valid} ended=${ended} lost=${lost} reuse=${reuse}`);
  await backend.close();
  return lost > 0 || reuse > 0 || !bounded ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error);
    process.exit(2);
  },
);
