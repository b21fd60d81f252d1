/**
 * The session budget (M1): a backend that floods or grows its cookies, or sends a huge profile
 * field, must not grow the session cookie until the app refuses every request (431). Replayed
 * against the hostile backend through the real `Auth()`.
 */
import { describe, expect, it } from "vitest";
import {
  chunkNames,
  decodeSession,
  HOSTILE_USER,
  hostileSetup,
  signInCode,
} from "./harness/index.js";

/** The budget's promise: the encrypted session fits in at most two 4 KB chunks. */
const MAX_CHUNKS = 2;

/** Session cookie chunks the browser holds (the whole cookie counts as one). */
const chunksOf = (client: ReturnType<Awaited<ReturnType<typeof hostileSetup>>["client"]>) =>
  Math.max(1, chunkNames(client).length);

describe("session budget", () => {
  it("a cookie flood at login (three 4 KB cookies) is not stored: two chunks at most, the session reads and sign-out ends the backend session", async () => {
    const { client, logger, backend } = await hostileSetup({
      loginCookies: { count: 3, bytes: 4000 },
    });
    const browser = client();
    await browser.signIn(HOSTILE_USER);
    expect(chunksOf(browser)).toBeLessThanOrEqual(MAX_CHUNKS);
    expect(browser.cookieHeader().length).toBeLessThan(2 * 4096 + 200);
    const token = await decodeSession(browser);
    expect(token?.backend?.cookies.length).toBeLessThan(3);
    expect(logger.lines).toEqual(
      expect.arrayContaining([
        expect.stringMatching(
          /^warn login: backend cookie "flood_\d" \(400\d bytes\) not stored: the session would exceed sessionBudgetBytes \(5120\)$/,
        ),
      ]),
    );
    // No line carries a cookie value.
    expect(logger.lines.join("\n")).not.toContain("ffffffff");
    expect((await browser.session())?.user?.email).toBe(HOSTILE_USER.email);
    const signOut = await browser.signOut();
    expect(signOut.status).toBe(302);
    expect(backend.stats.logout).toBe(1);
  });

  it("a backend that adds a 1 KB cookie on every refresh: after 20 refreshes the session is still within two chunks, and keeps refreshing", async () => {
    const { client, clock, logger, backend } = await hostileSetup({ growPerRefresh: 1024 });
    const browser = client();
    await browser.signIn(HOSTILE_USER);
    for (let i = 0; i < 20; i++) {
      clock.advance(590);
      const session = await browser.session();
      expect(session?.error).toBeUndefined();
      expect(chunksOf(browser)).toBeLessThanOrEqual(MAX_CHUNKS);
    }
    expect(backend.stats.refreshSucceeded).toBe(20);
    expect(backend.stats.reuseDetected).toBe(0);
    expect(logger.lines.filter((line) => / not stored: /.test(line)).length).toBeGreaterThan(10);
  });

  it("stored cookies that grow on every refresh: what is stored stays within the budget, and what gave way is gone from the jar", async () => {
    const { client, clock, logger } = await hostileSetup({
      loginCookies: { count: 10, bytes: 10 },
      loginSetCookies: [`big=${"b".repeat(2000)}; Path=/`],
      regrowPerRefresh: 1990,
    });
    const browser = client();
    await browser.signIn(HOSTILE_USER);
    for (let i = 0; i < 10; i++) {
      clock.advance(590);
      expect((await browser.session())?.error).toBeUndefined();
      const stored = (await decodeSession(browser))?.backend;
      const bytes = new TextEncoder().encode(JSON.stringify(stored)).byteLength;
      expect(bytes).toBeLessThanOrEqual(5120);
      expect(chunksOf(browser)).toBeLessThanOrEqual(MAX_CHUNKS);
    }
    expect(logger.lines.some((line) => / not stored: /.test(line))).toBe(true);
  });

  it("a 20 KB profile field is not stored (logged by name); the session stays within two chunks", async () => {
    const { client, logger } = await hostileSetup(
      { profileFieldBytes: 20_000 },
      { profileFields: ["notes"] },
    );
    const browser = client();
    await browser.signIn(HOSTILE_USER);
    expect(chunksOf(browser)).toBeLessThanOrEqual(MAX_CHUNKS);
    const session = await browser.session();
    expect(session?.user?.email).toBe(HOSTILE_USER.email);
    expect((session?.user as Record<string, unknown>)?.notes).toBeUndefined();
    expect(logger.lines).toContain(
      'warn login: profile field "notes" (20002 bytes) not stored: the session would exceed sessionBudgetBytes (5120)',
    );
  });

  it("keepCookies: only the listed cookies are stored", async () => {
    const { client } = await hostileSetup(
      { loginSetCookies: ["keep_me=1; Path=/", "drop_me=2; Path=/"] },
      { keepCookies: ["keep_me"] },
    );
    const browser = client();
    await browser.signIn(HOSTILE_USER);
    const token = await decodeSession(browser);
    expect(token?.backend?.cookies.map((cookie) => cookie.name)).toEqual(["keep_me"]);
  });

  it("tokens alone over the budget: sign-in fails with BackendResponseInvalid, says why, and logs the backend session out", async () => {
    const { client, logger, backend } = await hostileSetup({ tokenBytes: 3000 });
    const browser = client();
    const response = await browser.signIn(HOSTILE_USER);
    expect(signInCode(response)).toBe("BackendResponseInvalid");
    expect(chunkNames(browser)).toEqual([]);
    expect(logger.lines).toEqual(
      expect.arrayContaining([
        expect.stringMatching(
          /^error login: the session would take \d+ bytes .* over sessionBudgetBytes \(5120\)/,
        ),
      ]),
    );
    expect(backend.stats.logout).toBe(1);
    // A budget that fits the backend's tokens lets the same user in.
    const roomy = await hostileSetup({ tokenBytes: 3000 }, { sessionBudgetBytes: 8192 });
    const admitted = roomy.client();
    expect(signInCode(await admitted.signIn(HOSTILE_USER))).toBeNull();
  });
});
