import { afterAll, beforeAll, describe, expect, it, onTestFinished } from "vitest";
import type { BackendCredentialsOptions } from "../src/index.js";
import { simpleJwtOptions } from "./backends/simplejwt.js";
import { ORIGIN, SESSION_COOKIE } from "./harness/constants.js";
import { startCountingProxy } from "./harness/counting-proxy.js";
import { DJANGO_USER, type DjangoServer, startDjango } from "./harness/django-server.js";
import { providerSetup } from "./harness/provider-setup.js";
import { signInCode, tokenFromResponse } from "./harness/responses.js";

const LOGIN = "/api/token/";
const REFRESH = "/api/token/refresh/";
const BLACKLIST = "/api/token/blacklist/";
const PROFILE = "/api/users/me/";

/** SimpleJWT's default ACCESS_TOKEN_LIFETIME; the provider refreshes 60 s before `exp`. */
const ACCESS_TOKEN_SECONDS = 300;
/** Moves the provider's clock to 50 s before `exp`: inside the 60 s buffer, still valid at Django. */
const UNTIL_DUE = ACCESS_TOKEN_SECONDS - 50;

let django: DjangoServer;

beforeAll(async () => {
  django = await startDjango({ accessTokenLifetimeSeconds: ACCESS_TOKEN_SECONDS });
});

afterAll(async () => {
  await django?.close();
});

/** Calls Django directly (not through the proxy, so it is not counted), as a person would by hand. */
async function byHand(path: string, body: unknown): Promise<{ status: number; body: unknown }> {
  const response = await fetch(`${django.url}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  return { status: response.status, body: await response.json() };
}

/** What Django answers when a refresh token is blacklisted, expired or forged. */
const TOKEN_NOT_VALID = { status: 401, body: expect.objectContaining({ code: "token_not_valid" }) };

/**
 * A counting proxy in front of Django and an Auth.js config using BackendCredentials with the
 * SimpleJWT options against it, on a clock only the test moves (`advance`), logs recorded.
 */
async function djangoSetup(providerOptions: Partial<BackendCredentialsOptions> = {}) {
  const proxy = await startCountingProxy(django.url);
  onTestFinished(() => proxy.close());
  // A stopped clock: Django's real clock drifts from it by the test's duration, well within
  // clockToleranceSeconds; the 250 s jumps are corrected through Django's Date header.
  return { proxy, ...providerSetup({ ...simpleJwtOptions(proxy.url), ...providerOptions }) };
}

/** {@link djangoSetup} with a browser signed in as {@link DJANGO_USER}. */
async function djangoSignedIn(providerOptions: Partial<BackendCredentialsOptions> = {}) {
  const harness = await djangoSetup(providerOptions);
  const browser = harness.client();
  const response = await browser.signIn({
    username: DJANGO_USER.username,
    password: DJANGO_USER.password,
  });
  expect(signInCode(response)).toBeNull();
  const before = (await browser.token())?.backend;
  expect(before?.refreshToken).toBeTruthy();
  return { ...harness, browser, response, before };
}

describe("Django REST framework + SimpleJWT", () => {
  it("signs in with username and password: one call to /api/token/, one to /api/users/me/, and the session user is Django's user", async () => {
    const { proxy, browser, response, before, clock } = await djangoSignedIn();
    expect(response.headers.get("location")).toBe(`${ORIGIN}/dashboard`);
    expect(proxy.count(LOGIN)).toBe(1);
    expect(proxy.count(PROFILE)).toBe(1);
    expect(proxy.count(REFRESH)).toBe(0);

    const session = await browser.session();
    expect(session?.error).toBeUndefined();
    expect(session?.user).toMatchObject({
      id: expect.stringMatching(/^\d+$/),
      email: DJANGO_USER.email,
      username: DJANGO_USER.username,
      name: `${DJANGO_USER.first_name} ${DJANGO_USER.last_name}`,
    });
    // The expiry is the access token's JWT `exp`: SimpleJWT's lifetime from now.
    const remaining = (session?.accessTokenExpiresAt ?? 0) - clock.now() / 1000;
    expect(remaining).toBeGreaterThan(ACCESS_TOKEN_SECONDS - 15);
    expect(remaining).toBeLessThanOrEqual(ACCESS_TOKEN_SECONDS + 1);
    expect(before?.refreshTokenExpiresAt).toBeGreaterThan(clock.now() / 1000 + 86_000);
    // Reading the session again calls nothing.
    await browser.session();
    expect([...proxy.counts]).toEqual([
      [LOGIN, 1],
      [PROFILE, 1],
    ]);
  });

  it("a wrong password is InvalidCredentials (Django answers 401) and stores no session", async () => {
    const { proxy, client } = await djangoSetup();
    const browser = client();
    const response = await browser.signIn({ username: DJANGO_USER.username, password: "wrong" });
    expect(signInCode(response)).toBe("InvalidCredentials");
    expect(proxy.count(LOGIN)).toBe(1);
    expect(proxy.count(PROFILE)).toBe(0);
    expect(browser.cookies.has(SESSION_COOKIE)).toBe(false);
    expect(await browser.session()).toBeNull();
  });

  it("refreshes once when the access token comes within refreshBufferSeconds of its exp: one call to /api/token/refresh/, rotated tokens stored, and Django then rejects the old refresh token (blacklisted)", async () => {
    const { proxy, browser, clock, before, logger } = await djangoSignedIn();

    clock.advance(UNTIL_DUE - 50); // 100 s left: not due yet
    await browser.session();
    expect(proxy.count(REFRESH)).toBe(0);

    clock.advance(50); // 50 s left: due
    const session = await browser.session();
    expect(proxy.count(REFRESH)).toBe(1);
    expect(session?.error).toBeUndefined();
    const after = (await browser.token())?.backend;
    expect(after?.accessToken).toBeTruthy();
    expect(after?.refreshToken).toBeTruthy();
    expect(after?.accessToken).not.toBe(before?.accessToken);
    expect(after?.refreshToken).not.toBe(before?.refreshToken);
    // Django's clock is now 250 s behind ours; its Date header puts the new `exp` on our clock.
    const remaining = (after?.accessTokenExpiresAt ?? 0) - clock.now() / 1000;
    expect(remaining).toBeGreaterThan(ACCESS_TOKEN_SECONDS - 15);
    expect(remaining).toBeLessThanOrEqual(ACCESS_TOKEN_SECONDS + 1);

    // BLACKLIST_AFTER_ROTATION: the old refresh token is dead; the new access token works.
    expect(await byHand(REFRESH, { refresh: before?.refreshToken })).toEqual(TOKEN_NOT_VALID);
    const me = await fetch(`${django.url}${PROFILE}`, {
      headers: { authorization: `Bearer ${after?.accessToken}` },
    });
    expect(me.status).toBe(200);

    // The rotated refresh token is accepted at the next rotation.
    clock.advance(UNTIL_DUE);
    expect((await browser.session())?.error).toBeUndefined();
    expect(proxy.count(REFRESH)).toBe(2);
    expect(logger.lines).toEqual([]);
  });

  it("50 concurrent session reads with a due access token make exactly one call to /api/token/refresh/ and all get the same rotated tokens", async () => {
    const { proxy, browser, clock } = await djangoSignedIn();
    clock.advance(UNTIL_DUE);
    const responses = await Promise.all(
      Array.from({ length: 50 }, () => browser.clone().request("/session")),
    );
    expect(proxy.count(REFRESH)).toBe(1);
    const states = await Promise.all(
      responses.map(async (response) => (await tokenFromResponse(response))?.backend),
    );
    expect(new Set(states.map((state) => state?.accessToken)).size).toBe(1);
    expect(new Set(states.map((state) => state?.refreshToken)).size).toBe(1);
    expect(states[0]?.refreshToken).toBeTruthy();
    for (const response of responses) {
      expect(((await response.json()) as { error?: string }).error).toBeUndefined();
    }
  });

  it("a late request carrying the pre-rotation cookie within gracePeriodSeconds gets the rotated tokens without calling Django; after the window Django rejects the blacklisted token and that copy's session ends", async () => {
    const { proxy, browser, clock } = await djangoSignedIn({ gracePeriodSeconds: 5 });
    const late = browser.clone(); // e.g. a request that left before the rotation
    const afterWindow = browser.clone();
    clock.advance(UNTIL_DUE);
    await browser.session();
    expect(proxy.count(REFRESH)).toBe(1);
    const rotated = (await browser.token())?.backend;

    clock.advance(4); // within the 5 s grace window
    const response = await late.request("/session");
    expect(proxy.count(REFRESH)).toBe(1);
    expect(((await response.json()) as { error?: string }).error).toBeUndefined();
    const lateState = (await tokenFromResponse(response))?.backend;
    expect(lateState?.refreshToken).toBe(rotated?.refreshToken);
    expect(lateState?.accessToken).toBe(rotated?.accessToken);

    clock.advance(2); // past the window: the old token goes to Django, which has blacklisted it
    expect((await afterWindow.session())?.error).toBe("RefreshTokenRejected");
    expect(proxy.count(REFRESH)).toBe(2);
  });

  it("sign-out calls /api/token/blacklist/ once, and Django rejects that refresh token afterwards", async () => {
    const { proxy, browser, before, logger } = await djangoSignedIn();
    await browser.signOut();
    expect(proxy.count(BLACKLIST)).toBe(1);
    expect(proxy.count(REFRESH)).toBe(0);
    expect(browser.cookies.has(SESSION_COOKIE)).toBe(false);
    expect(await byHand(REFRESH, { refresh: before?.refreshToken })).toEqual(TOKEN_NOT_VALID);
    expect(logger.lines).toEqual([]); // no logout failure reported
  });

  it("a refresh token blacklisted at Django (revoked server-side) ends the session at the next refresh with RefreshTokenRejected", async () => {
    const { proxy, browser, clock, before } = await djangoSignedIn();
    expect(await byHand(BLACKLIST, { refresh: before?.refreshToken })).toEqual({
      status: 200,
      body: {},
    });

    clock.advance(UNTIL_DUE);
    const session = await browser.session();
    expect(proxy.count(REFRESH)).toBe(1);
    expect(session?.error).toBe("RefreshTokenRejected");
    expect(session?.user?.email).toBe(DJANGO_USER.email); // who was signed out
    const state = (await browser.token())?.backend;
    expect(state?.accessToken).toBeUndefined();
    expect(state?.refreshToken).toBeUndefined();

    // An ended session calls Django no more.
    expect((await browser.session())?.error).toBe("RefreshTokenRejected");
    expect(proxy.count(REFRESH)).toBe(1);
  });

  it("Django stopped: the due refresh is RefreshUnavailable and the user stays signed in; Django restarted: the next refresh after the backoff succeeds and clears the error", async () => {
    onTestFinished(async () => {
      if (!django.running) await django.restart();
    });
    const { proxy, browser, clock, before } = await djangoSignedIn();
    clock.advance(UNTIL_DUE);
    await django.stop();

    const down = await browser.session();
    expect(down?.error).toBe("RefreshUnavailable");
    expect(down?.user?.email).toBe(DJANGO_USER.email);
    expect(proxy.count(REFRESH)).toBe(1); // answered 502 by the proxy
    expect((await browser.token())?.backend?.refreshToken).toBe(before?.refreshToken);

    // Within the backoff (2 s) no request retries, even once Django is back.
    expect((await browser.session())?.error).toBe("RefreshUnavailable");
    await django.restart();
    expect((await browser.session())?.error).toBe("RefreshUnavailable");
    expect(proxy.count(REFRESH)).toBe(1);

    clock.advance(3); // the backoff has passed
    const recovered = await browser.session();
    expect(recovered?.error).toBeUndefined();
    expect(proxy.count(REFRESH)).toBe(2);
    const after = (await browser.token())?.backend;
    expect(after?.refreshToken).not.toBe(before?.refreshToken);
    expect(after?.error).toBeUndefined();
  });
});
