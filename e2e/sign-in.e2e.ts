import { describe, expect, it } from "vitest";
import {
  ADMIN,
  appLog,
  browserSuite,
  control,
  expectDashboard,
  expectItems,
  fillSignIn,
  openContext,
  screenshot,
  signIn,
  USER,
} from "./support.js";

const suite = browserSuite();

describe("scenario 1: sign-in, errors and roles", () => {
  it("1a signs in with the demo credentials: dashboard shows the user and /users/me", async () => {
    const { page } = await openContext(suite.browser, "01a-sign-in-dashboard");
    await signIn(page, USER);
    await expectDashboard(page, USER);
    await expectItems(page, USER);
    expect(await page.getByTestId("user-roles").textContent()).toBe("user");
    expect(await page.getByTestId("signed-in-as").textContent()).toBe(USER.email);
    const stats = await control.stats();
    expect(stats.login).toBe(1);
    expect(stats.me).toBeGreaterThanOrEqual(2); // profile at sign-in + the dashboard's fetch
    expect(stats.items).toBe(1);
  });

  it("1b a wrong password shows the error message on /signin, and the server logs one line without a stack trace", async () => {
    const { page } = await openContext(suite.browser, "01b-wrong-password");
    const logBefore = appLog().length;
    await page.goto("/signin");
    await fillSignIn(page, { email: USER.email, password: "not-the-password" });
    const error = page.getByTestId("sign-in-error");
    await error.waitFor();
    expect(await error.textContent()).toBe("Wrong email or password.");
    expect(await error.getAttribute("data-code")).toBe("InvalidCredentials");
    expect(await page.getByLabel("Email").inputValue()).toBe(USER.email);
    await screenshot(page, "01b-wrong-password-message");
    expect(new URL(page.url()).pathname).toBe("/signin");
    expect((await control.stats()).loginFailed).toBe(1);
    // The app's default logging (nextBackend's backendAuthLogger): one line, no stack.
    const logged = appLog().slice(logBefore);
    expect(logged.match(/sign-in refused \(InvalidCredentials\)/g)).toHaveLength(1);
    expect(logged).not.toMatch(/CredentialsSignin|^\s+at /m);
    // Still signed out: the dashboard sends us back to the sign-in page.
    await page.goto("/dashboard");
    expect(new URL(page.url()).pathname).toBe("/signin");
  });

  it("1b' backend failures at sign-in show their own messages", async () => {
    const { page } = await openContext(suite.browser, "01b-backend-unavailable");
    await page.goto("/signin");
    const cases = [
      {
        fault: { status: 503 },
        code: "BackendUnavailable",
        message: "The sign-in service is unavailable right now. Please try again in a moment.",
      },
      {
        fault: { status: 200, body: { ok: true } },
        code: "BackendResponseInvalid",
        message: "The sign-in service answered in a way we did not expect. Please try again later.",
      },
    ];
    for (const { fault, code, message } of cases) {
      await control.fault("login", fault);
      await fillSignIn(page, USER);
      const error = page.locator(`[data-testid="sign-in-error"][data-code="${code}"]`);
      await error.waitFor();
      expect(await error.textContent()).toBe(message);
      expect(new URL(page.url()).pathname).toBe("/signin");
    }
  });

  it("1c a plain user opening /admin sees the forbidden page", async () => {
    const { page } = await openContext(suite.browser, "01c-user-forbidden");
    await signIn(page, USER);
    const response = await page.goto("/admin");
    expect(response?.status()).toBe(200);
    expect(new URL(page.url()).pathname).toBe("/admin");
    await page.getByTestId("forbidden").waitFor();
    expect(await page.getByRole("heading", { level: 1 }).textContent()).toBe("Forbidden");
    expect(await page.getByTestId("admin-area").count()).toBe(0);
  });

  it("1d an admin sees the admin page", async () => {
    const { page } = await openContext(suite.browser, "01d-admin");
    await signIn(page, ADMIN);
    await expectDashboard(page, ADMIN);
    await page.getByRole("link", { name: "Admin", exact: true }).click();
    await page.waitForURL((url) => url.pathname === "/admin");
    await page.getByTestId("admin-area").waitFor();
    expect(await page.getByTestId("forbidden").count()).toBe(0);
  });

  it("1e a signed-out visit to /admin signs in and returns to /admin (same-origin callbackUrl)", async () => {
    const { page } = await openContext(suite.browser, "01e-callback-url");
    await page.goto("/admin");
    const url = new URL(page.url());
    expect(url.pathname).toBe("/signin");
    expect(url.searchParams.get("callbackUrl")).toBe("/admin");
    await fillSignIn(page, ADMIN);
    await page.waitForURL((next) => next.pathname === "/admin");
    await page.getByTestId("admin-area").waitFor();

    // A foreign callbackUrl is ignored: the user lands on the default page.
    const { page: other } = await openContext(suite.browser, "01e-foreign-callback-url");
    await other.goto("/signin?callbackUrl=https%3A%2F%2Fevil.example%2Fsteal");
    await fillSignIn(other, USER);
    await other.waitForURL((next) => next.pathname === "/dashboard");
    expect(new URL(other.url()).origin).toBe(new URL(page.url()).origin);
  });

  it("1f the JSON login route answers 401 for bad credentials and 200 with a session", async () => {
    const { context, page } = await openContext(suite.browser, "01f-login-route");
    const bad = await context.request.post("/api/login", {
      data: { email: USER.email, password: "wrong" },
    });
    expect(bad.status()).toBe(401);
    expect(await bad.json()).toEqual({ error: "InvalidCredentials" });
    const good = await context.request.post("/api/login", { data: USER });
    expect(good.status()).toBe(200);
    expect(await good.json()).toMatchObject({ ok: true });
    await page.goto("/dashboard");
    await expectDashboard(page, USER);
  });
});
