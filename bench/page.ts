/**
 * `pageOverheadRatio` and `sessionDecodesPerRequest`: one dashboard-like page request (proxy, a
 * Server Component calling `auth()` and three backend calls) through two built Next.js apps side
 * by side (`next build` + `next start`): bench/page-apps/ours (the package, configured as the
 * example app) and bench/page-apps/bare (next-auth alone, keeping the access token in the session
 * and calling `fetch` itself). See docs/performance.md.
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { startBackend } from "../example-app/backend/server.mjs";
import { ADMIN, SECRET } from "../test/harness/index.js";
import { freePort } from "../test/harness/ports.js";
import { median } from "./median.js";

const root = fileURLToPath(new URL("..", import.meta.url));
const nextBin = `${root}node_modules/next/dist/bin/next`;
const APPS = ["ours", "bare"] as const;
type AppName = (typeof APPS)[number];

/** Rounds of the measured page per app, after the warm-up rounds. */
const ROUNDS = 2000;
const WARM_UP = 300;
/** Page requests, per app, each with a session cookie the app has not seen before. */
const NEW_COOKIE_ROUNDS = 100;

function build(app: AppName): void {
  const result = spawnSync(process.execPath, [nextBin, "build"], {
    cwd: `${root}bench/page-apps/${app}`,
    env: { ...process.env, NEXT_TELEMETRY_DISABLED: "1", NODE_ENV: "production" },
    encoding: "utf8",
  });
  if (result.status !== 0) {
    throw new Error(
      `next build (bench/page-apps/${app}) failed:\n${result.stdout}${result.stderr}`,
    );
  }
}

interface RunningApp {
  name: AppName;
  url: string;
  process: ChildProcess;
  cookie: string;
}

async function start(app: AppName, backendUrl: string): Promise<RunningApp> {
  const port = await freePort();
  const preload = new URL("./count-decrypts.mjs", import.meta.url).href;
  const child = spawn(process.execPath, [nextBin, "start", "-p", String(port), "-H", "127.0.0.1"], {
    cwd: `${root}bench/page-apps/${app}`,
    env: {
      ...process.env,
      NODE_ENV: "production",
      NEXT_TELEMETRY_DISABLED: "1",
      AUTH_SECRET: SECRET,
      AUTH_TRUST_HOST: "true",
      BACKEND_URL: backendUrl,
      NODE_OPTIONS: `--import=${preload}`,
    },
    stdio: ["ignore", "ignore", "inherit"],
  });
  const url = `http://127.0.0.1:${port}`;
  for (let attempt = 0; ; attempt++) {
    try {
      if ((await fetch(`${url}/api/decrypts`)).ok) break;
    } catch {
      // not listening yet
    }
    if (attempt > 300) {
      child.kill();
      throw new Error(`next start (${app}) did not answer`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return { name: app, url, process: child, cookie: await signIn(url) };
}

/** `cookieHeader` with the cookies a response sets added or replaced (name=value pairs only). */
function withSetCookies(cookieHeader: string, response: Response): string {
  const jar = new Map<string, string>();
  const add = (pair: string) => jar.set(pair.slice(0, pair.indexOf("=")), pair);
  for (const pair of cookieHeader ? cookieHeader.split("; ") : []) add(pair);
  for (const header of response.headers.getSetCookie()) add(header.split(";")[0] ?? "");
  return [...jar.values()].join("; ");
}

/** Auth.js's Credentials sign-in over HTTP: CSRF token, then the callback; the cookies it sets. */
async function signIn(url: string): Promise<string> {
  const csrf = await fetch(`${url}/api/auth/csrf`);
  let cookie = withSetCookies("", csrf);
  const { csrfToken } = (await csrf.json()) as { csrfToken: string };
  const response = await fetch(`${url}/api/auth/callback/backend`, {
    method: "POST",
    redirect: "manual",
    headers: { "content-type": "application/x-www-form-urlencoded", cookie },
    body: new URLSearchParams({ csrfToken, ...ADMIN, callbackUrl: `${url}/dashboard` }),
  });
  cookie = withSetCookies(cookie, response);
  if (!cookie.includes("authjs.session-token")) {
    throw new Error(`sign-in to ${url} failed (${response.status})`);
  }
  return cookie;
}

/** The app's cookies with the session cookie Auth.js re-issued on a `GET /api/auth/session`. */
async function reissued(app: RunningApp): Promise<string> {
  const response = await fetch(`${app.url}/api/auth/session`, { headers: { cookie: app.cookie } });
  await response.text();
  return withSetCookies(app.cookie, response);
}

/** CPU seconds (user + system) of a process, from /proc. */
function cpuSeconds(pid: number | undefined): number {
  if (pid === undefined) return 0;
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]?.split(" ") ?? [];
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return 0;
  }
}

async function decrypts(app: RunningApp): Promise<number> {
  return ((await (await fetch(`${app.url}/api/decrypts`)).json()) as { decrypts: number }).decrypts;
}

async function page(app: RunningApp): Promise<number> {
  const started = performance.now();
  const response = await fetch(`${app.url}/dashboard`, {
    headers: { cookie: app.cookie },
    redirect: "manual",
  });
  const body = await response.text();
  const elapsed = performance.now() - started;
  if (response.status !== 200 || !body.includes(ADMIN.email)) {
    throw new Error(`${app.name}: GET /dashboard answered ${response.status}`);
  }
  return elapsed;
}

export interface PageFigures {
  /** Median milliseconds of the page, ours and bare. */
  ours: number;
  bare: number;
  ratio: number;
  /** next-server CPU seconds per 1,000 pages, ours and bare. */
  cpuOurs: number;
  cpuBare: number;
  /** Session JWT decrypts per page request (proxy, auth(), backend calls together). */
  decodesOurs: number;
  decodesBare: number;
  /** The same when every page request carries a session cookie the app has not seen yet. */
  newCookieDecodesOurs: number;
  newCookieDecodesBare: number;
  rounds: number;
}

/** Builds both apps, runs them side by side and measures the page, interleaved. */
export async function pageOverhead(): Promise<PageFigures> {
  for (const app of APPS) build(app);
  const backend = await startBackend({ accessTokenTtlSeconds: 3600 });
  const apps: RunningApp[] = [];
  try {
    for (const app of APPS) apps.push(await start(app, backend.url));
    const [ours, bare] = apps as [RunningApp, RunningApp];
    for (let i = 0; i < WARM_UP; i++) for (const app of apps) await page(app);
    const samples = { ours: [] as number[], bare: [] as number[] };
    const decryptsBefore = [await decrypts(ours), await decrypts(bare)];
    const cpuBefore = apps.map((app) => cpuSeconds(app.process.pid));
    for (let i = 0; i < ROUNDS; i++) {
      // Interleaved, alternating order, so drift and GC affect both apps alike.
      const order = i % 2 ? [bare, ours] : [ours, bare];
      for (const app of order) samples[app.name].push(await page(app));
    }
    const cpu = apps.map((app, index) => cpuSeconds(app.process.pid) - cpuBefore[index]!);
    const decryptsAfter = [await decrypts(ours), await decrypts(bare)];
    // Then with a new session cookie for every page (Auth.js re-issues it on each session read,
    // e.g. useSession()): only the page request's own decrypts are counted.
    const newCookie = { ours: 0, bare: 0 };
    for (let i = 0; i < NEW_COOKIE_ROUNDS; i++) {
      for (const app of apps) {
        app.cookie = await reissued(app);
        const before = await decrypts(app);
        await page(app);
        newCookie[app.name] += (await decrypts(app)) - before;
      }
    }
    return {
      ours: median(samples.ours),
      bare: median(samples.bare),
      ratio: median(samples.ours) / median(samples.bare),
      cpuOurs: (cpu[0]! * 1000) / ROUNDS,
      cpuBare: (cpu[1]! * 1000) / ROUNDS,
      decodesOurs: (decryptsAfter[0]! - decryptsBefore[0]!) / ROUNDS,
      decodesBare: (decryptsAfter[1]! - decryptsBefore[1]!) / ROUNDS,
      newCookieDecodesOurs: newCookie.ours / NEW_COOKIE_ROUNDS,
      newCookieDecodesBare: newCookie.bare / NEW_COOKIE_ROUNDS,
      rounds: ROUNDS,
    };
  } finally {
    for (const app of apps) app.process.kill();
    await backend.close();
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  console.log(JSON.stringify(await pageOverhead()));
}
