/**
 * Sign-in when the backend refuses it, fails or answers what we cannot read: the Auth.js
 * sign-in redirect carries a code that tells these apart, and nothing is stored.
 */
import { describe, expect, it } from "vitest";
import { ADMIN, SESSION_COOKIE, setup, signInCode } from "./harness/index.js";

describe("failed sign-in", () => {
  it("wrong password: InvalidCredentials, no session cookie", async () => {
    const { client, backend } = await setup();
    const browser = client();
    const response = await browser.signIn({ ...ADMIN, password: "wrong" });
    expect(response.status).toBe(302);
    expect(response.headers.get("location")).toContain("error=CredentialsSignin");
    expect(signInCode(response)).toBe("InvalidCredentials");
    expect(browser.cookies.has(SESSION_COOKIE)).toBe(false);
    expect(backend.stats.loginFailed).toBe(1);
  });

  it("backend 503: BackendUnavailable, not a wrong password", async () => {
    const { client, backend } = await setup();
    backend.injectFault("login", { status: 503 });
    const response = await client().signIn(ADMIN);
    expect(signInCode(response)).toBe("BackendUnavailable");
  });

  it("backend unreachable: BackendUnavailable", async () => {
    const { client, backend } = await setup();
    await backend.close();
    const response = await client().signIn(ADMIN);
    expect(signInCode(response)).toBe("BackendUnavailable");
  });
});

describe("login: bad answers from the backend", () => {
  for (const status of [400, 422]) {
    it(`login answered ${status}: InvalidCredentials, nothing stored, no stack trace on the sign-in page`, async () => {
      const { backend, client, logger } = await setup();
      backend.injectFault("login", {
        status,
        body: { error: "invalid_credentials", message: "Detailed backend message for user@x" },
      });
      const browser = client();
      const response = await browser.signIn(ADMIN);
      expect(response.status).toBe(302);
      const location = response.headers.get("location") ?? "";
      expect(location).toContain("error=CredentialsSignin");
      expect(signInCode(response)).toBe("InvalidCredentials");
      expect(location).not.toContain("Detailed");
      expect(browser.cookies.has(SESSION_COOKIE)).toBe(false);
      expect(await browser.session()).toBeNull();

      // The page the user lands on: Auth.js's sign-in page, without internals.
      const page = await browser.request(location.slice(location.indexOf("/signin")));
      expect(page.status).toBe(200);
      const html = await page.text();
      expect(html).not.toMatch(/\bat .+:\d+:\d+/);
      expect(html).not.toMatch(/BackendSignInError|Detailed backend message/);
      expect(logger.lines.join("\n")).not.toMatch(/Detailed backend message/);
    });
  }

  it("login timeout: BackendUnavailable, not a wrong password", async () => {
    const { backend, client } = await setup({}, { timeoutMs: 200 });
    backend.injectFault("login", { delayMs: 1_000 });
    const browser = client();
    const response = await browser.signIn(ADMIN);
    expect(signInCode(response)).toBe("BackendUnavailable");
    expect(browser.cookies.has(SESSION_COOKIE)).toBe(false);
  });

  it("login answered 500: BackendUnavailable", async () => {
    const { backend, client } = await setup();
    backend.injectFault("login", { status: 500 });
    expect(signInCode(await client().signIn(ADMIN))).toBe("BackendUnavailable");
  });

  it("login response that is not JSON: BackendResponseInvalid, the log says so", async () => {
    const { backend, client, logger } = await setup();
    backend.injectFault("login", { status: 200, body: "<html>Welcome!</html>" });
    const browser = client();
    expect(signInCode(await browser.signIn(ADMIN))).toBe("BackendResponseInvalid");
    expect(browser.cookies.has(SESSION_COOKIE)).toBe(false);
    expect(logger.lines).toContain("error login: /auth/login response is not JSON");
  });

  it("login response without an access token: BackendResponseInvalid, the log names the missing token", async () => {
    const { backend, client, logger } = await setup();
    backend.injectFault("login", {
      status: 200,
      body: { token_type: "Bearer", user: { id: "1", email: ADMIN.email } },
    });
    const browser = client();
    expect(signInCode(await browser.signIn(ADMIN))).toBe("BackendResponseInvalid");
    expect(browser.cookies.has(SESSION_COOKIE)).toBe(false);
    expect(logger.lines).toContain(
      'error login: /auth/login response has no access token at body "accessToken"',
    );
  });
});
