import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { type Browser, type BrowserContext, chromium, type Page } from "playwright-core";
import { afterAll, beforeAll, beforeEach, expect, inject, onTestFinished } from "vitest";
import type {
  BackendOptions,
  BackendStats,
  Fault,
  FaultEndpoint,
  RecordedRequest,
} from "../example-app/backend/server.mjs";
import { RESULTS_DIR } from "./servers.js";

export { ADMIN, EVALUATOR, USER } from "../test/harness/constants.js";
export { ACCESS_TOKEN_TTL } from "./servers.js";

export const APP_URL = inject("appUrl");
export const BACKEND_URL = inject("backendUrl");

/** A JWT (or the first three parts of a JWE) anywhere in a string. */
export const JWT_PATTERN = /eyJ[\w-]+\.[\w-]+\.[\w-]+/;
/** Auth.js's session cookie and its chunks. */
export const SESSION_COOKIE = /^(__Secure-|__Host-)?authjs\.session-token(\.\d+)?$/;

const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

/** Headless Debian Chromium through playwright-core (no browser downloads). */
async function launchBrowser(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`${CHROMIUM} not found: install the Debian package "chromium"`);
  }
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
}

/**
 * Registers the hooks every browser test file uses: one Chromium per file, backend counters reset
 * before each test, and a check of the app server's log after the file (so the last file checks
 * the whole run). Returns a getter for the browser.
 */
export function browserSuite(): { readonly browser: Browser } {
  let browser: Browser | undefined;
  beforeAll(async () => {
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    expectCleanServerLog();
  });
  beforeEach(() => control.reset());
  return {
    get browser() {
      if (!browser) throw new Error("the browser is not running");
      return browser;
    },
  };
}

/** Lines that must never appear in the app server's output. */
const FORBIDDEN_LOG_LINES = [
  /Cookies can only be modified/,
  /⨯/,
  /\[auth\]\[error\]/,
  /Unhandled/i,
];

/** The app never tried to write cookies while rendering, nor hit an unhandled server error. */
function expectCleanServerLog(): void {
  const problems = appLog()
    .split("\n")
    .filter((line) => FORBIDDEN_LOG_LINES.some((pattern) => pattern.test(line)));
  expect(problems, "app server log (test-results/app-server.log)").toEqual([]);
}

/** The app server's output so far (stdout + stderr). */
export function appLog(): string {
  return readFileSync(inject("appLogFile"), "utf8");
}

/** The reference backend's control API (`CONTROL=1`). */
export const control = {
  async stats(): Promise<BackendStats> {
    return (await call("GET", "/__control/stats")) as BackendStats;
  },
  async reset(): Promise<void> {
    await call("POST", "/__control/reset", {});
  },
  async revoke(email?: string): Promise<void> {
    await call("POST", "/__control/revoke", email ? { email } : {});
  },
  async expireRefresh(email?: string): Promise<void> {
    await call("POST", "/__control/expire-refresh", email ? { email } : {});
  },
  async fault(endpoint: FaultEndpoint, fault: Fault): Promise<void> {
    await call("POST", "/__control/fault", { endpoint, ...fault });
  },
  /** Changes backend options for the following requests (e.g. `logoutRequiresAccessToken`). */
  async options(patch: Partial<BackendOptions>): Promise<void> {
    await call("POST", "/__control/options", patch);
  },
  /** The last 20 refresh and logout requests the backend received. */
  async requests(): Promise<RecordedRequest[]> {
    return (await call("GET", "/__control/requests")) as RecordedRequest[];
  },
};

async function call(method: string, path: string, body?: unknown): Promise<unknown> {
  const response = await fetch(`${BACKEND_URL}${path}`, {
    method,
    headers: body === undefined ? {} : { "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!response.ok) throw new Error(`${method} ${path}: ${response.status}`);
  return response.status === 204 ? undefined : response.json();
}

/** Saves a full-page screenshot as `test-results/<name>.png`. */
export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(RESULTS_DIR, { recursive: true });
  await page.screenshot({ path: join(RESULTS_DIR, `${name}.png`), fullPage: true });
}

/**
 * A fresh browser context (own cookies) with one page, on `baseURL` (the `next start` app unless
 * given another server). When the test ends the page is saved as
 * `test-results/<name>.png` (`<name>-failed.png` on failure) and the context is closed.
 */
export async function openContext(
  browser: Browser,
  name: string,
  baseURL = APP_URL,
): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({ baseURL });
  const page = await context.newPage();
  onTestFinished(async ({ task }) => {
    const failed = task.result?.state === "fail";
    if (!page.isClosed()) await screenshot(page, failed ? `${name}-failed` : name).catch(() => {});
    await context.close();
  });
  return { context, page };
}

/** Signs in through the /signin form and waits for the destination. */
export async function signIn(
  page: Page,
  user: { email: string; password: string },
  { from = "/signin", expectPath = "/dashboard" } = {},
): Promise<void> {
  await page.goto(from);
  await fillSignIn(page, user);
  await page.waitForURL((url) => url.pathname === expectPath);
  expect(new URL(page.url()).origin).toBe(APP_URL);
}

export async function fillSignIn(page: Page, user: { email: string; password: string }) {
  const form = page.getByTestId("sign-in-form");
  await form.getByLabel("Email").fill(user.email);
  await form.getByLabel("Password").fill(user.password);
  await form.getByRole("button", { name: "Sign in" }).click();
}

/** The access-token expiry the dashboard rendered (seconds since the epoch). */
export async function renderedExpiry(page: Page, testId = "access-expires-at"): Promise<number> {
  const value = await page.getByTestId(testId).getAttribute("data-epoch");
  const epoch = Number(value);
  expect(Number.isFinite(epoch) && epoch > 0, `${testId} data-epoch=${value}`).toBe(true);
  return epoch;
}

/**
 * Waits until the access token that expires at `epoch` has expired (plus a margin): the scenario
 * under test is "the user stays on the page past expiry", so this wait is the point, not a race.
 */
export async function waitPastExpiry(epoch: number, marginMs = 500): Promise<void> {
  const ms = epoch * 1000 + marginMs - Date.now();
  if (ms > 0) await new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls `check` until it returns true (or fails with `message`). */
export async function until(
  message: string,
  check: () => Promise<boolean> | boolean,
  timeoutMs = 20_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`timed out after ${timeoutMs} ms: ${message}`);
}

/** The dashboard shows the user and the `/users/me` data fetched server-side. */
export async function expectDashboard(page: Page, user: { email: string }): Promise<void> {
  expect(new URL(page.url()).origin).toBe(APP_URL);
  expect(new URL(page.url()).pathname).toBe("/dashboard");
  await expect.poll(() => page.getByTestId("user-email").textContent()).toBe(user.email);
  const profile = JSON.parse((await page.getByTestId("profile").textContent()) ?? "null");
  expect(profile).toMatchObject({ email: user.email, department: "Research" });
}

/** The client component's items, loaded through /api/items. */
export async function expectItems(page: Page, user: { email: string }): Promise<void> {
  const items = page.getByTestId("items");
  await expect.poll(() => items.getAttribute("data-status"), { timeout: 15_000 }).toBe("ok");
  expect(await items.textContent()).toContain("Alpha");
  expect(await items.textContent()).toContain(user.email);
}

/** `GET /api/auth/session` from the page (a real browser request with its cookies). */
export async function sessionJson(page: Page): Promise<Record<string, unknown> | null> {
  return page.evaluate(async () => {
    const response = await fetch("/api/auth/session", { cache: "no-store" });
    return (await response.json()) as Record<string, unknown> | null;
  });
}

/** Main-frame navigation requests (each redirect hop is one), in order. */
export function recordNavigations(page: Page): string[] {
  const urls: string[] = [];
  page.on("request", (request) => {
    if (request.isNavigationRequest() && request.frame() === page.mainFrame()) {
      urls.push(request.url());
    }
  });
  return urls;
}
