import type { Page } from "playwright-core";
import { describe, expect, it } from "vitest";
import {
  ACCESS_TOKEN_TTL,
  browserSuite,
  control,
  EVALUATOR,
  expectDashboard,
  expectItems,
  openContext,
  recordNavigations,
  renderedExpiry,
  screenshot,
  sessionJson,
  signIn,
  USER,
  until,
  waitPastExpiry,
} from "./support.js";

const suite = browserSuite();

async function expectHealthyRotation() {
  const stats = await control.stats();
  expect(stats.reuseDetected).toBe(0);
  expect(stats.refreshRejected).toBe(0);
  expect(stats.refreshSucceeded).toBe(stats.refresh);
  return stats;
}

describe("scenario 2: staying on the dashboard past access-token expiry", () => {
  it("2 navigating after each expiry stays signed in with exactly one refresh per expiry", async () => {
    const { page } = await openContext(suite.browser, "02-refresh-after-expiry");
    await signIn(page, USER);
    await expectDashboard(page, USER);
    await expectItems(page, USER);
    let expiry = await renderedExpiry(page);

    const navigations: Array<[string, (page: Page) => Promise<void>]> = [
      [
        "full reload",
        async (p) => {
          await p.reload();
        },
      ],
      [
        "client-side navigation (Home, then Dashboard links)",
        async (p) => {
          await p.getByRole("link", { name: "Home", exact: true }).click();
          await p.waitForURL((url) => url.pathname === "/");
          await p.getByRole("link", { name: "Dashboard", exact: true }).first().click();
          await p.waitForURL((url) => url.pathname === "/dashboard");
        },
      ],
    ];
    for (const [how, navigate] of navigations) {
      const before = (await control.stats()).refresh;
      await waitPastExpiry(expiry);
      // Idle on the page: nothing refreshed in the background.
      expect((await control.stats()).refresh, `idle before ${how}`).toBe(before);
      await navigate(page);
      await expectDashboard(page, USER);
      await expectItems(page, USER);
      const next = await renderedExpiry(page);
      expect(next, `new expiry after ${how}`).toBeGreaterThan(expiry);
      expiry = next;
      const stats = await expectHealthyRotation();
      expect(stats.refresh - before, `refreshes for ${how}`).toBe(1);
    }
  });
});

describe("scenario 3: two tabs navigating at the same time after expiry", () => {
  it("3 both tabs stay signed in with one refresh in total and no reuse", async () => {
    const { context, page: first } = await openContext(suite.browser, "03-two-tabs-first");
    await signIn(first, EVALUATOR);
    const second = await context.newPage();
    await second.goto("/dashboard");
    await expectDashboard(first, EVALUATOR);
    await expectDashboard(second, EVALUATOR);
    await expectItems(second, EVALUATOR);

    for (const round of [1, 2]) {
      const expiry = Math.max(await renderedExpiry(first), await renderedExpiry(second));
      const before = (await control.stats()).refresh;
      await waitPastExpiry(expiry);
      // Both tabs send the same (expired) session cookie at the same moment.
      await Promise.all([first.reload(), second.reload()]);
      for (const tab of [first, second]) {
        await expectDashboard(tab, EVALUATOR);
        await expectItems(tab, EVALUATOR);
        expect(await renderedExpiry(tab)).toBeGreaterThan(expiry);
      }
      const stats = await expectHealthyRotation();
      // Round 2 proves the cookie the tabs kept holds the newest refresh token (no reuse).
      expect(stats.refresh - before, `round ${round}`).toBe(1);
    }
    await screenshot(second, "03-two-tabs-second");
  });
});

describe("scenario 7: <SessionRefresher /> on a page that does not navigate", () => {
  it("7 the client helper refreshes the session before expiry; no navigation, no sign-out", async () => {
    const { page } = await openContext(suite.browser, "07-session-refresher");
    await signIn(page, USER, { from: "/signin?callbackUrl=%2Flive", expectPath: "/live" });
    const status = page.getByTestId("live-status");
    await until(
      "client session authenticated",
      async () => (await status.textContent()) === "authenticated",
    );
    const initial = await sessionJson(page);
    const firstExpiry = await renderedExpiry(page, "live-expires-at");
    const navigations = recordNavigations(page);
    const before = (await control.stats()).refresh;

    // Two access-token lifetimes on the page without touching it.
    await waitPastExpiry(firstExpiry + ACCESS_TOKEN_TTL);

    const latest = await renderedExpiry(page, "live-expires-at");
    expect(latest).toBeGreaterThan(firstExpiry + ACCESS_TOKEN_TTL / 2);
    expect(latest * 1000).toBeGreaterThan(Date.now());
    const stats = await expectHealthyRotation();
    expect(stats.refresh - before).toBeGreaterThanOrEqual(2);
    expect(navigations).toEqual([]);
    expect(new URL(page.url()).pathname).toBe("/live");
    expect(await status.textContent()).toBe("authenticated");
    expect(await page.getByTestId("live-error").textContent()).toBe("none");
    const after = await sessionJson(page);
    expect(after?.accessTokenExpiresAt as number).toBeGreaterThan(
      initial?.accessTokenExpiresAt as number,
    );
    expect(after?.error).toBeUndefined();
  });
});
