import { describe, expect, it } from "vitest";
import {
  APP_URL,
  browserSuite,
  control,
  expectItems,
  fillSignIn,
  openContext,
  USER,
} from "./support.js";

const suite = browserSuite();

describe("scenario 13: backend.axios in a route handler (next start)", () => {
  it("13 backend.axios attaches the session's credentials like backend.fetch, and sends a signed-out request to sign-in", async () => {
    const anonymous = await fetch(`${APP_URL}/api/items-axios`, { redirect: "manual" });
    expect([303, 307]).toContain(anonymous.status);
    expect(new URL(anonymous.headers.get("location") ?? "", APP_URL).pathname).toBe("/signin");

    const { page } = await openContext(suite.browser, "13-axios");
    await page.goto("/signin");
    await fillSignIn(page, USER);
    await page.waitForURL((url) => url.pathname === "/dashboard", { timeout: 60_000 });
    await expectItems(page, USER); // the dashboard's own /api/items call is done
    const before = (await control.stats()).items;
    const result = await page.evaluate(async () => {
      const response = await fetch("/api/items-axios", { cache: "no-store" });
      return { status: response.status, body: (await response.json()) as { user?: string } };
    });
    expect(result.status).toBe(200);
    expect(result.body.user).toBe(USER.email);
    expect((await control.stats()).items - before).toBe(1);
  });
});
