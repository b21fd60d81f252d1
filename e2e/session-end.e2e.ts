import type { Page } from "playwright-core";
import { describe, expect, it } from "vitest";
import {
  APP_URL,
  appLog,
  browserSuite,
  control,
  EVALUATOR,
  expectDashboard,
  expectItems,
  openContext,
  recordNavigations,
  renderedExpiry,
  SESSION_COOKIE,
  signIn,
  USER,
  until,
  waitPastExpiry,
} from "./support.js";

const suite = browserSuite();

const COOKIE_ERROR = "Cookies can only be modified";
/** The backend cookie the example mirrors to the browser (`mirrorBackendCookies`). */
const MIRRORED_COOKIE = "theme";

/** The sign-in page with the SessionExpired notice, reached without an error page. */
async function expectSessionExpiredPage(page: Page, callbackUrl: string) {
  await until("on /signin", () => new URL(page.url()).pathname === "/signin");
  const url = new URL(page.url());
  // Redirects stay on the origin the browser uses (not the server's internal host name).
  expect(url.origin).toBe(APP_URL);
  expect(url.searchParams.get("error")).toBe("SessionExpired");
  expect(url.searchParams.get("callbackUrl")).toBe(callbackUrl);
  const notice = page.getByTestId("sign-in-notice");
  await notice.waitFor();
  expect(await notice.textContent()).toBe("Your session has expired. Please sign in again.");
  const text = (await page.textContent("body")) ?? "";
  expect(text).not.toMatch(/Application error|Internal Server Error|This page couldn.t load/i);
  expect(await page.getByTestId("profile").count()).toBe(0);
}

/** Neither the session cookie (or its chunks) nor the backend cookie we mirror is left. */
async function expectNoOurCookies(page: Page) {
  const names = (await page.context().cookies()).map((cookie) => cookie.name);
  expect(names.filter((name) => SESSION_COOKIE.test(name))).toEqual([]);
  expect(names).not.toContain(MIRRORED_COOKIE);
}

/** No further navigation happens for a while: the redirect chain has settled (no loop). */
async function expectSettled(navigations: string[], ms = 2_000) {
  const count = navigations.length;
  await new Promise((resolve) => setTimeout(resolve, ms));
  expect(navigations.length, navigations.join("\n")).toBe(count);
}

/** Signed in as the evaluator on the dashboard, then the backend revokes every refresh token. */
async function onDashboardThenRevoked(screenshot: string) {
  const { page } = await openContext(suite.browser, screenshot);
  const logStart = appLog().length;
  await signIn(page, EVALUATOR);
  await expectDashboard(page, EVALUATOR);
  await expectItems(page, EVALUATOR);
  const expiry = await renderedExpiry(page);
  await control.revoke(EVALUATOR.email);
  return { page, logStart, expiry };
}

describe("scenario 4: refresh token revoked at the backend", () => {
  it("4a the next navigation after expiry ends on sign-in with SessionExpired, no loop", async () => {
    const { page, logStart, expiry } = await onDashboardThenRevoked("04a-revoked-full-navigation");
    await waitPastExpiry(expiry);

    const navigations = recordNavigations(page);
    const response = await page.goto("/dashboard");
    await expectSessionExpiredPage(page, "/dashboard");
    expect(response?.status()).toBe(200);
    // /dashboard -> /api/auth/expired -> /signin: at most one hop more than that.
    expect(navigations.length, navigations.join("\n")).toBeLessThanOrEqual(3);
    await expectSettled(navigations);
    await expectNoOurCookies(page);
    const stats = await control.stats();
    expect(stats.refreshRejected).toBe(1);
    expect(stats.reuseDetected).toBe(0);
    expect(appLog().slice(logStart)).not.toContain(COOKIE_ERROR);
  });

  it("4b a client-side navigation after expiry also ends on sign-in with SessionExpired", async () => {
    const { page, logStart, expiry } = await onDashboardThenRevoked(
      "04b-revoked-client-navigation",
    );
    await waitPastExpiry(expiry);

    const navigations = recordNavigations(page);
    await page.getByRole("link", { name: "Admin", exact: true }).click();
    await expectSessionExpiredPage(page, "/admin");
    await expectSettled(navigations);
    expect(navigations.length, navigations.join("\n")).toBeLessThanOrEqual(3);
    await expectNoOurCookies(page);
    expect((await control.stats()).reuseDetected).toBe(0);
    expect(appLog().slice(logStart)).not.toContain(COOKIE_ERROR);
  });

  it("4c revoked while the access token is still valid: the backend's 401 ends the session cleanly", async () => {
    const { page, logStart } = await onDashboardThenRevoked("04c-revoked-401");

    const navigations = recordNavigations(page);
    await page.goto("/dashboard");
    await expectSessionExpiredPage(page, "/dashboard");
    await expectSettled(navigations);
    expect(navigations.length, navigations.join("\n")).toBeLessThanOrEqual(4);
    await expectNoOurCookies(page);
    expect(appLog().slice(logStart)).not.toContain(COOKIE_ERROR);
  });

  it("4d revoked while on the dashboard: the client component's API call ends the session cleanly", async () => {
    const { page, logStart } = await onDashboardThenRevoked("04d-revoked-api-call");

    const navigations = recordNavigations(page);
    // /api/items -> backend 401 -> /api/auth/refresh -> /api/auth/expired -> /signin (followed by
    // fetch), then the component sends the browser to the sign-in page for this page.
    await page.getByRole("button", { name: "Reload items" }).click();
    await expectSessionExpiredPage(page, "/dashboard");
    await expectSettled(navigations);
    expect(navigations.length, navigations.join("\n")).toBeLessThanOrEqual(2);
    await expectNoOurCookies(page);
    expect(appLog().slice(logStart)).not.toContain(COOKIE_ERROR);
  });
});

describe("scenario 5: sign out", () => {
  it("5 signs out at the backend, removes our cookies, and Back does not show private data", async () => {
    const { page } = await openContext(suite.browser, "05-sign-out");
    await signIn(page, USER);
    await expectDashboard(page, USER);
    await expectItems(page, USER);
    await page.getByTestId("sign-out").click();
    await page.waitForURL((url) => url.pathname === "/signin");

    expect((await control.stats()).logout).toBe(1);
    await expectNoOurCookies(page);

    await page.goBack();
    await until("Back lands on /signin", () => new URL(page.url()).pathname === "/signin");
    expect(await page.getByTestId("profile").count()).toBe(0);
    expect(await page.textContent("body")).not.toContain("Research");
    await expectSettled(recordNavigations(page), 1_000);
    expect(new URL(page.url()).pathname).toBe("/signin");
    expect(await page.getByTestId("profile").count()).toBe(0);
  });
});
