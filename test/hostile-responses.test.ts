/**
 * Backend answers that try to hurt the app: tokens that are not header values (L2) and bodies
 * that never end (L3). Replayed against the hostile backend through the real `Auth()`.
 */
import { encode } from "@auth/core/jwt";
import { describe, expect, it } from "vitest";
import { HOSTILE_USER, hostileSetup, SECRET, SESSION_COOKIE, signInCode } from "./harness/index.js";

/** Anything of the injected header (the line break's payload) in the logs means a leak. */
const INJECTED = /X-Injected|\r|\n/;

describe("tokens that are not valid header values", () => {
  for (const token of ["access", "refresh"] as const) {
    it(`a login ${token} token with a line break: BackendResponseInvalid, and no log line quotes it`, async () => {
      const { client, logger } = await hostileSetup({
        lineBreakToken: { at: "login", token },
      });
      const browser = client();
      expect(signInCode(await browser.signIn(HOSTILE_USER))).toBe("BackendResponseInvalid");
      expect(logger.lines).toContain(
        `error login: /auth/login response: the ${token} token is not a valid header value (only visible ASCII is accepted)`,
      );
      for (const line of logger.lines) expect(line).not.toMatch(INJECTED);
    });
  }

  it("a refreshed token with a line break is not stored: the user stays signed in (transient), nothing quoted", async () => {
    const { client, clock, logger } = await hostileSetup({
      lineBreakToken: { at: "refresh", token: "refresh" },
    });
    const browser = client();
    await browser.signIn(HOSTILE_USER);
    const before = (await browser.token())?.backend?.refreshToken;
    clock.advance(590);
    const session = await browser.session();
    expect(session?.error).toBe("RefreshUnavailable");
    expect((await browser.token())?.backend?.refreshToken).toBe(before);
    expect(logger.lines).toContain(
      "error refresh: /auth/refresh response: the refresh token is not a valid header value (only visible ASCII is accepted)",
    );
    for (const line of logger.lines) expect(line).not.toMatch(INJECTED);
  });

  it("a session stored with such a token before the check ends at its next refresh instead of staying RefreshUnavailable, and nothing is quoted", async () => {
    const { client, clock, logger, backend } = await hostileSetup(
      {},
      { refreshTokenTransport: "bearer" },
    );
    const browser = client();
    await browser.signIn(HOSTILE_USER);
    const token = await browser.token();
    const backendState = token?.backend;
    if (!token || !backendState) throw new Error("no session");
    const poisoned = {
      ...token,
      backend: { ...backendState, refreshToken: `${backendState.refreshToken}\r\nX-Injected: 1` },
    };
    browser.cookies.set(
      SESSION_COOKIE,
      await encode({ token: poisoned, secret: SECRET, salt: SESSION_COOKIE }),
    );
    clock.advance(590);
    expect((await browser.session())?.error).toBe("RefreshTokenRejected");
    expect(backend.stats.refresh).toBe(0);
    expect(logger.lines).toContain(
      "error refresh: POST /auth/refresh: a stored token or cookie is not a valid header value; session ended",
    );
    for (const line of logger.lines) expect(line).not.toMatch(INJECTED);
  });
});

describe("response size", () => {
  it("a 600 MiB chunked login body (no Content-Length) is cut off after 1 MiB: BackendResponseInvalid, nothing buffered beyond the limit", async () => {
    const { client, backend } = await hostileSetup({ hugeLoginBodyBytes: 600 * 1024 * 1024 });
    const browser = client();
    expect(signInCode(await browser.signIn(HOSTILE_USER))).toBe("BackendResponseInvalid");
    await backend.streamEnded();
    expect(backend.stats.streamAborted).toBe(true);
    // What the server managed to write before we hung up: the 1 MiB limit plus socket buffers.
    expect(backend.stats.streamedBytes).toBeLessThan(32 * 1024 * 1024);
  });
});
