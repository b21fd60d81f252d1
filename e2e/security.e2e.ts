import { describe, expect, it, onTestFinished } from "vitest";
import {
  APP_URL,
  browserSuite,
  control,
  fillSignIn,
  openContext,
  SESSION_COOKIE,
  sessionJson,
  USER,
} from "./support.js";

const suite = browserSuite();

describe("scenario 10: a hostile backend and another site (next start)", () => {
  it("10a a cookie flood at login (three 4 KB backend cookies): the session stays within two chunks and every page, the session endpoint and sign-out answer (no 431)", async () => {
    await control.options({ extraCookies: { login: 3, perRefresh: 0, bytes: 4000 } });
    onTestFinished(() =>
      control.options({ extraCookies: { login: 0, perRefresh: 0, bytes: 1024 } }),
    );
    const { context, page } = await openContext(suite.browser, "10a-cookie-flood");
    await page.goto("/signin");
    await fillSignIn(page, USER);
    await page.waitForURL((url) => url.pathname === "/dashboard", { timeout: 60_000 });

    const session = (await context.cookies()).filter((cookie) => SESSION_COOKIE.test(cookie.name));
    expect(session.length).toBeGreaterThanOrEqual(1);
    expect(session.length).toBeLessThanOrEqual(2);
    const cookieBytes = (await context.cookies())
      .map((cookie) => cookie.name.length + cookie.value.length + 2)
      .reduce((sum, size) => sum + size, 0);
    expect(cookieBytes).toBeLessThan(2 * 4096 + 512);

    for (const path of ["/", "/dashboard"]) {
      const response = await page.goto(path);
      expect(response?.status(), path).toBe(200);
    }
    expect((await sessionJson(page))?.user).toMatchObject({ email: USER.email });
    await page.getByTestId("sign-out").click();
    await page.waitForURL((url) => url.pathname === "/signin");
    expect((await control.stats()).logout).toBe(1);
  });

  it("10b one cross-site link to a 20-hop refresh-route chain rotates nothing and ends on our home page", async () => {
    const { context, page } = await openContext(suite.browser, "10b-refresh-chain");
    await page.goto("/signin");
    await fillSignIn(page, USER);
    await page.waitForURL((url) => url.pathname === "/dashboard", { timeout: 60_000 });

    let chain = "/dashboard";
    for (let hop = 0; hop < 20; hop++) {
      chain = `/api/auth/refresh?callbackUrl=${encodeURIComponent(chain)}`;
    }
    // Another site (served by the browser itself: no network) links to the chain.
    await context.route("http://attacker.test/**", (route) =>
      route.fulfill({
        contentType: "text/html",
        body: `<a id="go" href="${APP_URL}${chain}">win a prize</a>`,
      }),
    );
    const before = await control.stats();
    await page.goto("http://attacker.test/");
    await page.click("#go");
    await page.waitForURL((url) => url.origin === APP_URL && url.pathname === "/");
    const after = await control.stats();
    expect(after.refresh - before.refresh).toBe(0);
    expect((await sessionJson(page))?.user).toMatchObject({ email: USER.email });
  });
});
