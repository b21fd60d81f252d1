import { readFileSync } from "node:fs";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from "vitest";
import { startApp } from "./servers.js";
import {
  ACCESS_TOKEN_TTL,
  APP_URL,
  BACKEND_URL,
  browserSuite,
  control,
  fillSignIn,
  openContext,
  renderedExpiry,
  sessionJson,
  USER,
  until,
  waitPastExpiry,
} from "./support.js";

const suite = browserSuite();

/** Rounds of the race per server: each after a fresh expiry. */
const ROUNDS = 3;

/**
 * One expired session cookie, four entry points at the same moment, each a separate bundle of
 * the built app: the proxy (`GET /`), the Auth.js session route (`GET /api/auth/session`, what
 * `useSession` and `<SessionRefresher/>` call; the proxy leaves Auth.js routes alone), a route
 * handler (`GET /api/items`, behind the proxy) and a server action (`countItems` on the
 * dashboard, behind the proxy).
 */
async function race(page: Page) {
  return page.evaluate(async () => {
    const button = document.querySelector<HTMLButtonElement>('[data-testid="item-count"] button');
    if (!button) throw new Error("no server-action button");
    button.click();
    const read = async (path: string) => {
      const response = await fetch(path, { cache: "no-store", redirect: "manual" });
      const text = await response.text();
      return { path, status: response.status, text };
    };
    return Promise.all(["/", "/api/auth/session", "/api/items"].map(read));
  });
}

async function expectSignedInDashboard(page: Page, origin: string) {
  expect(new URL(page.url()).origin).toBe(origin);
  expect(new URL(page.url()).pathname).toBe("/dashboard");
  await expect.poll(() => page.getByTestId("user-email").textContent()).toBe(USER.email);
  await expect.poll(() => page.getByTestId("profile").count()).toBe(1);
}

/** Signs in on `origin`, then races the four entry points after each of ROUNDS expiries. */
async function raceRounds(origin: string, name: string) {
  const { page } = await openContext(suite.browser, name, origin);
  await page.goto("/signin");
  await fillSignIn(page, USER);
  await page.waitForURL((url) => url.pathname === "/dashboard", { timeout: 60_000 });
  await expectSignedInDashboard(page, origin);
  // Every entry point once before the race (`next dev` compiles each on first use).
  await race(page);
  await until(
    "server action answered",
    async () => /items/.test((await page.getByTestId("item-count-result").textContent()) ?? ""),
    60_000,
  );
  await page.reload();
  await expectSignedInDashboard(page, origin);

  for (let round = 1; round <= ROUNDS; round++) {
    await page.reload(); // a fresh, idle page: the action's result is empty again
    await expectSignedInDashboard(page, origin);
    // Let the page finish its own calls (its client component loads /api/items, which refreshes
    // if the token became due meanwhile: `next dev` hydrates slowly), then read the current
    // expiry from the session endpoint rather than from the render.
    await expect
      .poll(() => page.getByTestId("items").getAttribute("data-status"), { timeout: 30_000 })
      .toBe("ok");
    const expiry = (await sessionJson(page))?.accessTokenExpiresAt as number;
    expect(expiry).toBeGreaterThan(0);
    const before = await control.stats();
    await waitPastExpiry(expiry);
    expect((await control.stats()).refresh, `round ${round}: idle before the race`).toBe(
      before.refresh,
    );

    const results = await race(page);
    await until("server action answered", async () =>
      /^\d+ items$/.test((await page.getByTestId("item-count-result").textContent()) ?? ""),
    );
    const byPath = Object.fromEntries(results.map((result) => [result.path, result]));
    expect(byPath["/"]?.status, `round ${round}: GET /`).toBe(200);
    expect(byPath["/api/items"]?.status, `round ${round}: GET /api/items`).toBe(200);
    expect(byPath["/api/auth/session"]?.status).toBe(200);
    const session = JSON.parse(byPath["/api/auth/session"]?.text ?? "null") as {
      user?: { email?: string };
      error?: string;
    } | null;
    expect(session?.user?.email, `round ${round}: session endpoint`).toBe(USER.email);
    expect(session?.error, `round ${round}: session error`).toBeUndefined();

    const stats = await control.stats();
    expect(stats.refresh - before.refresh, `round ${round}: backend refreshes`).toBe(1);
    expect(stats.reuseDetected, `round ${round}: reuse`).toBe(0);
    expect(stats.refreshRejected, `round ${round}: rejected`).toBe(0);

    // The rotated token is due again half its lifetime after issue; a reload before that makes
    // no refresh (on a busy machine `next dev` may take longer, and a refresh then is legitimate).
    const rotatedExpiry = (session as { accessTokenExpiresAt?: number } | null)
      ?.accessTokenExpiresAt;
    expect(rotatedExpiry, `round ${round}: rotated expiry`).toBeGreaterThan(expiry);
    const dueAt = (rotatedExpiry ?? 0) - ACCESS_TOKEN_TTL / 2;
    await page.reload();
    await expectSignedInDashboard(page, origin);
    expect(await renderedExpiry(page)).toBeGreaterThan(expiry);
    const afterReload = await control.stats();
    expect(afterReload.reuseDetected, `round ${round}: reuse after the reload`).toBe(0);
    // Checked once the reload is over: if even that was before the due time, no refresh at all.
    if (Date.now() / 1000 < dueAt) {
      expect(afterReload.refresh, `round ${round}: after the reload`).toBe(stats.refresh);
    } else {
      expect(
        afterReload.refresh - stats.refresh,
        `round ${round}: after the reload`,
      ).toBeLessThanOrEqual(1);
    }
  }
}

describe("scenario 8: the proxy, the session endpoint, a route handler and a server action race with one expired cookie", () => {
  it(`8a next start: ${ROUNDS} rounds, exactly one backend refresh per expiry, no reuse, still signed in`, async () => {
    await raceRounds(APP_URL, "08a-race-next-start");
  });

  describe("next dev", () => {
    let dev: Awaited<ReturnType<typeof startApp>> | undefined;
    beforeAll(async () => {
      dev = await startApp(BACKEND_URL, "dev");
    }, 200_000);
    afterAll(async () => {
      await dev?.stop();
      const problems = (dev ? readFileSync(dev.logFile, "utf8") : "")
        .split("\n")
        .filter((line) => /Cookies can only be modified|Unhandled|\[auth\]\[error\]/i.test(line));
      expect(problems, "next dev log (test-results/app-dev-server.log)").toEqual([]);
    });

    it(`8b next dev: ${ROUNDS} rounds, exactly one backend refresh per expiry, no reuse, still signed in`, async () => {
      if (!dev) throw new Error("next dev did not start");
      await raceRounds(dev.url, "08b-race-next-dev");
    }, 240_000);
  });
});

describe("scenario 9: sign-out after the access token expired, against a logout that accepts only a valid access token", () => {
  const signOutWays: Array<[string, (page: Page) => Promise<void>]> = [
    [
      "the sign-out button (server action)",
      async (page) => {
        await page.getByTestId("sign-out").click();
        await page.waitForURL((url) => url.pathname === "/signin");
      },
    ],
    [
      "next-auth's client signOut() (POST /api/auth/signout, which the proxy leaves alone)",
      async (page) => {
        await page.evaluate(async () => {
          const { csrfToken } = (await (await fetch("/api/auth/csrf")).json()) as {
            csrfToken: string;
          };
          const response = await fetch("/api/auth/signout", {
            method: "POST",
            headers: {
              "content-type": "application/x-www-form-urlencoded",
              "x-auth-return-redirect": "1",
            },
            body: new URLSearchParams({ csrfToken, callbackUrl: "/signin" }),
          });
          if (!response.ok) throw new Error(`sign-out answered ${response.status}`);
        });
        await page.goto("/dashboard");
        await page.waitForURL((url) => url.pathname === "/signin");
      },
    ],
  ];

  for (const [index, [how, signOut]] of signOutWays.entries()) {
    it(`9${"ab"[index]} ${how}: the backend session ends; no refresh token of it works afterwards`, async () => {
      await control.options({ logoutRequiresAccessToken: true });
      onTestFinished(() => control.options({ logoutRequiresAccessToken: false }));
      const { page } = await openContext(suite.browser, `09${"ab"[index]}-sign-out-after-expiry`);
      await page.goto("/signin");
      await fillSignIn(page, USER);
      await page.waitForURL((url) => url.pathname === "/dashboard");
      await expectSignedInDashboard(page, APP_URL);
      await waitPastExpiry(await renderedExpiry(page));

      await signOut(page);

      const stats = await control.stats();
      expect(stats.logout).toBe(1);
      const requests = await control.requests();
      const logout = requests.findLast((request) => request.endpoint === "logout");
      expect(logout?.headers.authorization).toMatch(/^Bearer /);
      // The newest refresh token (the logout carried it) is refused because the backend session
      // was revoked at logout, not through reuse detection: it was never used before.
      const newest = logout?.cookies.refresh_token;
      expect(newest).toBeTruthy();
      const presentByHand = async (token: string) => {
        const response = await fetch(`${BACKEND_URL}/auth/refresh`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ refreshToken: token }),
        });
        return response.status;
      };
      expect(await presentByHand(newest ?? "")).toBe(401);
      expect((await control.stats()).reuseDetected).toBe(0);
      // Neither is any older token the session held (as the backend saw them).
      for (const request of requests) {
        const token = request.cookies.refresh_token;
        if (token) expect(await presentByHand(token)).toBe(401);
      }
    });
  }
});
