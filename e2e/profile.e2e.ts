import { describe, expect, it, onTestFinished } from "vitest";
import { DEFAULT_USERS } from "../example-app/backend/server.mjs";
import {
  ADMIN,
  browserSuite,
  control,
  fillSignIn,
  openContext,
  renderedExpiry,
  sessionJson,
  until,
  waitPastExpiry,
} from "./support.js";

const suite = browserSuite();

describe("scenario 11: who the user is, kept true (next start)", () => {
  it("11a /api/auth/session holds only id, name, email, image, roles and the listed department", async () => {
    const { page } = await openContext(suite.browser, "11a-session-fields");
    await page.goto("/signin");
    await fillSignIn(page, ADMIN);
    await page.waitForURL((url) => url.pathname === "/dashboard", { timeout: 60_000 });
    const user = (await sessionJson(page))?.user as Record<string, unknown>;
    expect(Object.keys(user).sort()).toEqual(
      ["department", "email", "id", "image", "name", "roles"].filter((key) => key in user),
    );
    expect(user).toMatchObject({ email: ADMIN.email, department: "Research", roles: ["admin"] });
    expect(await page.getByTestId("user-department").textContent()).toBe("Research");
  });

  it("11b an admin demoted at the backend loses the admin page at the next refresh, without signing out", async () => {
    const { page } = await openContext(suite.browser, "11b-demoted-admin");
    await page.goto("/signin");
    await fillSignIn(page, ADMIN);
    await page.waitForURL((url) => url.pathname === "/dashboard", { timeout: 60_000 });
    const expiry = await renderedExpiry(page);
    await page.goto("/admin");
    await page.getByTestId("admin-area").waitFor();

    const demoted = DEFAULT_USERS.map((user) =>
      user.email === ADMIN.email
        ? { ...user, roles: ["user"] }
        : { ...user, roles: [...user.roles] },
    );
    await control.options({ users: demoted });
    onTestFinished(() =>
      control.options({
        users: DEFAULT_USERS.map((user) => ({ ...user, roles: [...user.roles] })),
      }),
    );
    await waitPastExpiry(expiry);
    await page.reload();
    await until(
      "the admin page is forbidden",
      async () => (await page.getByTestId("forbidden").count()) === 1,
    );
    expect(new URL(page.url()).pathname).toBe("/admin");
    expect((await sessionJson(page))?.user).toMatchObject({ email: ADMIN.email, roles: ["user"] });
  });
});
