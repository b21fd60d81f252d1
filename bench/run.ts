/**
 * `npm run bench`: measures what the package costs and what it saves, side by side, and prints a
 * table, then (last line) one JSON object. Not part of `npm test`: figures are not assertions.
 * See docs/performance.md for the method.
 */
import { execFileSync } from "node:child_process";
import { randomUUID } from "node:crypto";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { cpus, totalmem } from "node:os";
import { fileURLToPath } from "node:url";
import type { AuthConfig } from "@auth/core";
import Credentials from "@auth/core/providers/credentials";
import { type Backend, startBackend } from "../example-app/backend/server.mjs";
import { hasBinary } from "../scripts/system-packages.mjs";
import {
  BackendCredentials,
  type BackendCredentialsOptions,
  MemoryCoordinator,
  withBackend,
} from "../src/index.js";
import {
  ADMIN,
  AuthClient,
  SECRET,
  SESSION_COOKIE,
  sharedClock,
  spawnInstance,
  startRedisServer,
  stopInstances,
  tokenFromResponse,
} from "../test/harness/index.js";
import { guideConfig } from "./guide-baseline.js";
import { median } from "./median.js";
import { pageOverhead } from "./page.js";

const silent = { error: () => {}, warn: () => {}, debug: () => {} };
const quietLogger = { warn: () => {}, error: () => {} };
const CONCURRENCY = 100;
const BACKEND_DELAY_MS = 20;

async function time(work: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  await work();
  return performance.now() - started;
}

function ourConfig(backend: Backend, extra: Partial<BackendCredentialsOptions> = {}): AuthConfig {
  return withBackend({
    secret: SECRET,
    trustHost: true,
    basePath: "/auth",
    logger: silent,
    providers: [
      BackendCredentials({
        baseUrl: backend.url,
        endpoints: { logout: "/auth/logout" },
        tokens: { accessToken: { body: "accessToken" }, refreshToken: { body: "refreshToken" } },
        logger: quietLogger,
        ...extra,
      }),
    ],
  }) as AuthConfig;
}

/**
 * Median session read through `Auth()` (fresh access token) with our provider and callbacks vs a
 * bare Credentials provider without callbacks. A third arm reads *our* session cookie without our
 * callbacks, separating the cost of the callbacks from the cost of encrypting a larger payload
 * (the tokens themselves), which any implementation that keeps tokens in the session pays.
 */
async function overhead() {
  const backend = await startBackend({ tokenPlacement: "body", accessTokenTtlSeconds: 3600 });
  const ourAuthConfig = ourConfig(backend);
  const ours = new AuthClient(ourAuthConfig);
  await ours.signIn(ADMIN);
  const bareConfig: AuthConfig = {
    secret: SECRET,
    trustHost: true,
    basePath: "/auth",
    logger: silent,
    providers: [
      Credentials({
        id: "backend",
        credentials: { email: {}, password: {} },
        authorize: async (credentials) => ({
          id: "1",
          name: "Ada Admin",
          email: String(credentials.email),
        }),
      }),
    ],
  };
  const bare = new AuthClient(bareConfig);
  await bare.signIn(ADMIN);
  const payloadOnly = new AuthClient({ ...bareConfig });
  for (const [name, value] of ours.cookies) payloadOnly.cookies.set(name, value);
  const read = (client: AuthClient) => time(() => client.request("/session").then((r) => r.text()));
  const arms = [ours, bare, payloadOnly] as const;
  for (let i = 0; i < 500; i++) for (const client of arms) await read(client);
  const samples: [number[], number[], number[]] = [[], [], []];
  for (let i = 0; i < 4000; i++) {
    // Interleaved, rotating order, so drift and GC affect every arm alike.
    for (let j = 0; j < arms.length; j++) {
      const arm = (i + j) % arms.length;
      samples[arm]!.push(await read(arms[arm]!));
    }
  }
  await backend.close();
  const [a, b, c] = samples.map(median) as [number, number, number];
  return { ours: a, bare: b, payloadOnly: c, ratio: a / b, callbackRatio: a / c };
}

/** Backend refresh calls when 100 concurrent reads carry the same expired token (one process). */
async function contention(kind: "ours" | "guide") {
  // The guide's callback reads `expiresIn` from the body, so both sides get that expiry style.
  const backend = await startBackend({
    tokenPlacement: "body",
    expiryStyle: "expires_in",
    accessTokenTtlSeconds: 600,
  });
  const clock = sharedClock(backend);
  const config =
    kind === "ours"
      ? ourConfig(backend, {
          now: clock.now,
          coordination: new MemoryCoordinator({ now: clock.now, scope: `bench-${randomUUID()}` }),
        })
      : guideConfig(backend.url, SECRET, clock.now);
  const browser = new AuthClient(config);
  await browser.signIn(ADMIN);
  clock.advance(700);
  const responses = await Promise.all(
    Array.from({ length: CONCURRENCY }, () => browser.clone().request("/session")),
  );
  // A response fails when the session it writes carries an error (ours: token.backend.error; the
  // guide's: token.error) or when it writes no session at all.
  const tokens = await Promise.all(responses.map(tokenFromResponse));
  const failed = tokens.filter((token) => !token || token.error || token.backend?.error).length;
  const { refresh, reuseDetected } = backend.stats;
  await backend.close();
  return { refresh, reuseDetected, failed };
}

/** The same across 4 processes sharing Redis. */
async function contentionRedis(): Promise<{ refresh: number; reuseDetected: number } | string> {
  if (!hasBinary("redis-server")) return "redis-server is not installed";
  const redis = await startRedisServer();
  const backend = await startBackend({ tokenPlacement: "mixed", accessTokenTtlSeconds: 600 });
  const clock = sharedClock(backend);
  const env = { BACKEND_URL: backend.url, REDIS_PORT: String(redis.port), REDIS_PREFIX: "bench:" };
  const instances = await Promise.all(Array.from({ length: 4 }, () => spawnInstance(env)));
  try {
    const config = ourConfig(backend, {
      tokens: { accessToken: { body: "accessToken" }, refreshToken: { cookie: "refresh_token" } },
    });
    const browser = new AuthClient(config);
    await browser.signIn(ADMIN);
    const cookie = browser.cookieHeader();
    clock.advance(700);
    await Promise.all(instances.map((instance) => instance.advance(700)));
    await Promise.all(
      instances.flatMap((instance) =>
        Array.from({ length: 25 }, () => instance.session(cookie).then((r) => r.text())),
      ),
    );
    return { refresh: backend.stats.refresh, reuseDetected: backend.stats.reuseDetected };
  } finally {
    await stopInstances();
    await backend.close();
    await redis.stop();
  }
}

/** Latency of a read that refreshes vs a read that does not plus one bare backend refresh. */
async function refreshLatency() {
  const backend = await startBackend({
    tokenPlacement: "body",
    accessTokenTtlSeconds: 600,
    delayMs: BACKEND_DELAY_MS,
  });
  const clock = sharedClock(backend);
  const browser = new AuthClient(
    ourConfig(backend, {
      now: clock.now,
      coordination: new MemoryCoordinator({ now: clock.now, scope: `bench-${randomUUID()}` }),
    }),
  );
  await browser.signIn(ADMIN);
  const plain: number[] = [];
  const refreshing: number[] = [];
  const bare: number[] = [];
  const login = await fetch(`${backend.url}/auth/login`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(ADMIN),
  });
  let refreshToken = ((await login.json()) as { refreshToken: string }).refreshToken;
  for (let i = 0; i < 60; i++) {
    plain.push(await time(() => browser.request("/session").then((r) => r.text())));
    clock.advance(600);
    refreshing.push(await time(() => browser.request("/session").then((r) => r.text())));
    bare.push(
      await time(async () => {
        const response = await fetch(`${backend.url}/auth/refresh`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ refreshToken }),
        });
        refreshToken = ((await response.json()) as { refreshToken: string }).refreshToken;
      }),
    );
  }
  await backend.close();
  const ratio = median(refreshing) / (median(plain) + median(bare));
  return { plain: median(plain), refreshing: median(refreshing), bare: median(bare), ratio };
}

/**
 * Session cookie bytes for a realistic backend: two JWTs of `tokenBytes` each (access and
 * refresh), two cookies, a profile.
 */
async function cookieSize(tokenBytes: number) {
  const jwt = (kind: string) => {
    const header = Buffer.from(JSON.stringify({ alg: "RS256", typ: "JWT" })).toString("base64url");
    const claims = {
      sub: "8f14e45f-ceea-467a-9b73-1c2b7c5e3f21",
      kind,
      exp: 4102444800,
      iat: 1700000000,
      pad: "",
    };
    const unpadded = `${header}.${Buffer.from(JSON.stringify(claims)).toString("base64url")}.${"s".repeat(342)}`;
    claims.pad = "x".repeat(Math.max(0, Math.floor(((tokenBytes - unpadded.length) * 3) / 4)));
    const token = `${header}.${Buffer.from(JSON.stringify(claims)).toString("base64url")}.${"s".repeat(342)}`;
    return token.slice(0, tokenBytes).padEnd(tokenBytes, "s");
  };
  const server = createServer((request, response) => {
    request.resume();
    response.setHeader("content-type", "application/json");
    response.setHeader("set-cookie", [
      `session_id=${"a".repeat(64)}; Path=/; HttpOnly; SameSite=Lax`,
      `XSRF-TOKEN=${"b".repeat(48)}; Path=/; SameSite=Lax`,
    ]);
    response.end(
      JSON.stringify({
        accessToken: jwt("access"),
        refreshToken: jwt("refresh"),
        user: {
          id: "8f14e45f-ceea-467a-9b73-1c2b7c5e3f21",
          name: "Ada Lovelace",
          email: "ada.lovelace@example.com",
          roles: ["admin", "evaluator", "user"],
        },
      }),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  const config = withBackend({
    secret: SECRET,
    trustHost: true,
    basePath: "/auth",
    logger: silent,
    providers: [
      BackendCredentials({
        baseUrl: `http://127.0.0.1:${port}`,
        endpoints: { logout: "/auth/logout" },
        logger: quietLogger,
      }),
    ],
  }) as AuthConfig;
  const browser = new AuthClient(config);
  await browser.signIn(ADMIN);
  server.close();
  const session = [...browser.cookies].filter(
    ([name]) => name === SESSION_COOKIE || name.startsWith(`${SESSION_COOKIE}.`),
  );
  return {
    bytes: session.reduce((sum, [name, value]) => sum + name.length + 1 + value.length, 0),
    chunks: session.length,
  };
}

/** RSS growth after 100,000 distinct refreshes through the in-memory coordinator (child process). */
function rssGrowth(): number {
  const script = fileURLToPath(new URL("./rss.ts", import.meta.url));
  const output = execFileSync(process.execPath, ["--expose-gc", "--import", "tsx", script], {
    encoding: "utf8",
  });
  return Number(JSON.parse(output.trim().split("\n").at(-1) ?? "{}").rssGrowthMB);
}

const round = (value: number, digits = 3) => Number(value.toFixed(digits));

async function main() {
  const started = Date.now();
  const overheadResult = await overhead();
  const pageResult = await pageOverhead();
  const ours = await contention("ours");
  const guide = await contention("guide");
  const redis = await contentionRedis();
  const latency = await refreshLatency();
  const cookie = await cookieSize(800);
  const largeCookie = await cookieSize(1500);
  const rss = rssGrowth();

  const rows: Array<[string, string, string]> = [
    [
      "overheadRatio",
      `${round(overheadResult.ratio)} (ours ${round(overheadResult.ours)} ms / bare ${round(overheadResult.bare)} ms, median of 4000 interleaved)`,
      "<= 1.05",
    ],
    [
      "  callbacks only",
      `${round(overheadResult.callbackRatio)} (ours / the same session cookie read without our callbacks, ${round(overheadResult.payloadOnly)} ms)`,
      "(diagnostic)",
    ],
    [
      "pageOverheadRatio",
      `${round(pageResult.ratio)} (ours ${round(pageResult.ours, 2)} ms / bare ${round(pageResult.bare, 2)} ms, built apps, median of ${pageResult.rounds} interleaved; CPU ${round(pageResult.cpuOurs, 1)} / ${round(pageResult.cpuBare, 1)} ms per page)`,
      "<= 1.05",
    ],
    [
      "sessionDecodesPerRequest",
      `${round(pageResult.decodesOurs, 4)} (bare ${round(pageResult.decodesBare, 4)}); with a new session cookie on every page ${round(pageResult.newCookieDecodesOurs, 2)} (bare ${round(pageResult.newCookieDecodesBare, 2)})`,
      "1",
    ],
    [
      "refreshCallsPerExpiry",
      `${ours.refresh} (${CONCURRENCY} concurrent reads, reuse ${ours.reuseDetected}, failed ${ours.failed})`,
      "1",
    ],
    [
      "refreshCallsPerExpiryRedis",
      typeof redis === "string"
        ? `null (${redis})`
        : `${redis.refresh} (4 processes x 25, reuse ${redis.reuseDetected})`,
      "1",
    ],
    [
      "baselineRefreshCalls",
      `${guide.refresh} (guide-style callback; reuse detected ${guide.reuseDetected}, sessions failed ${guide.failed})`,
      "(the problem)",
    ],
    [
      "refreshLatencyRatio",
      `${round(latency.ratio)} (refreshing ${round(latency.refreshing, 1)} ms / (plain ${round(latency.plain, 1)} + bare refresh ${round(latency.bare, 1)}) ms; backend delay ${BACKEND_DELAY_MS} ms)`,
      "<= 1.3",
    ],
    [
      "sessionCookieBytes",
      `${cookie.bytes} (${cookie.chunks} chunk${cookie.chunks === 1 ? "" : "s"})`,
      "< 3936",
    ],
    [
      "  with 1.5 KB tokens",
      `${largeCookie.bytes} (${largeCookie.chunks} chunk${largeCookie.chunks === 1 ? "" : "s"})`,
      "(figure)",
    ],
    ["rssGrowthMB", `${round(rss, 1)} (100,000 distinct refreshes, grace cache bounded)`, "< 50"],
  ];
  const width = Math.max(...rows.map(([name]) => name.length));
  console.log(
    `machine: ${cpus().length} x ${cpus()[0]?.model ?? "cpu"}, ${Math.round(totalmem() / 2 ** 30)} GiB, node ${process.version}`,
  );
  for (const [name, value, goal] of rows)
    console.log(`${name.padEnd(width)}  ${value}  [goal ${goal}]`);
  console.log(`took ${((Date.now() - started) / 1000).toFixed(0)} s`);
  console.log(
    JSON.stringify({
      overheadRatio: round(overheadResult.ratio),
      callbackOverheadRatio: round(overheadResult.callbackRatio),
      pageOverheadRatio: round(pageResult.ratio),
      pageMedianMs: { ours: round(pageResult.ours, 2), bare: round(pageResult.bare, 2) },
      pageCpuMsPerRequest: {
        ours: round(pageResult.cpuOurs, 2),
        bare: round(pageResult.cpuBare, 2),
      },
      sessionDecodesPerRequest: round(pageResult.decodesOurs, 4),
      sessionDecodesPerRequestNewCookie: round(pageResult.newCookieDecodesOurs, 2),
      bareSessionDecodesPerRequest: round(pageResult.decodesBare, 4),
      refreshCallsPerExpiry: ours.refresh,
      refreshCallsPerExpiryRedis: typeof redis === "string" ? null : redis.refresh,
      ...(typeof redis === "string" && { refreshCallsPerExpiryRedisSkipped: redis }),
      baselineRefreshCalls: guide.refresh,
      refreshLatencyRatio: round(latency.ratio),
      backendDelayMs: BACKEND_DELAY_MS,
      sessionCookieBytes: cookie.bytes,
      sessionCookieChunks: cookie.chunks,
      sessionCookieBytesLargeTokens: largeCookie.bytes,
      sessionCookieChunksLargeTokens: largeCookie.chunks,
      rssGrowthMB: round(rss, 1),
    }),
  );
}

await main();
