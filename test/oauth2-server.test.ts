import { describe, expect, it, onTestFinished } from "vitest";
import { type OAuth2Overrides, oauth2Options } from "./backends/oauth2.js";
import { SESSION_COOKIE, signInCode, tokenFromResponse } from "./harness/index.js";
import { ALICE, OAUTH2_CLIENT, OAUTH2_USER, startOAuth2Server } from "./harness/oauth2-server.js";
import { providerSetup } from "./harness/provider-setup.js";

const TOKEN = "/oauth/token";
const REVOKE = "/oauth/revoke";

/**
 * The authorization server and an Auth.js config using `oauth2Options` against it, on a fake clock
 * (the provider's `now` and its coordinator's), with every log line recorded.
 */
async function oauth2Setup(overrides: OAuth2Overrides = {}) {
  const server = await startOAuth2Server();
  onTestFinished(() => server.stop());
  // The relying party's clock (not the server's) only moves when the test advances it.
  return { server, ...providerSetup(oauth2Options(server.url, overrides)) };
}

/** {@link oauth2Setup} with a browser signed in as alice; `before` is the stored backend state. */
async function signedInAsAlice(overrides: OAuth2Overrides = {}) {
  const harness = await oauth2Setup(overrides);
  const browser = harness.client();
  const response = await browser.signIn(ALICE);
  expect(signInCode(response)).toBeNull();
  const before = (await browser.token())?.backend;
  expect(before?.refreshToken).toBeTruthy();
  return { ...harness, browser, response, before };
}

/** A token request made by hand (HTTP Basic client authentication), as any other client would. */
async function tokenByHand(url: string, form: Record<string, string>) {
  const response = await fetch(`${url}${TOKEN}`, {
    method: "POST",
    headers: {
      "content-type": "application/x-www-form-urlencoded",
      authorization: `Basic ${btoa(`${OAUTH2_CLIENT.id}:${OAUTH2_CLIENT.secret}`)}`,
    },
    body: new URLSearchParams(form),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

/** What the server answers to a refresh with `refreshToken`, presented by hand. */
function refreshByHand(url: string, refreshToken: string) {
  return tokenByHand(url, { grant_type: "refresh_token", refresh_token: refreshToken });
}

/** Each client authentication method, and how the server records it. */
const CLIENT_AUTHENTICATIONS = [
  ["client_secret_basic", "basic"],
  ["client_secret_post", "body"],
] as const;

const isRefreshGrant = (request: { form: Record<string, string> }) =>
  request.form.grant_type === "refresh_token";

describe("oauth2: sign-in with the password grant", () => {
  for (const [clientAuthentication, seenAs] of CLIENT_AUTHENTICATIONS) {
    it(`${clientAuthentication}: one form-encoded password grant, the client authenticated by ${seenAs === "basic" ? "HTTP Basic" : "client_id and client_secret in the body"}, tokens stored`, async () => {
      const { server, browser, response, before, clock } = await signedInAsAlice({
        oauth2: { clientAuthentication },
      });
      expect(response.status).toBe(302);
      expect(browser.cookies.has(SESSION_COOKIE)).toBe(true);

      expect(server.count(TOKEN)).toBe(1);
      const [grant] = server.seen.filter((request) => request.path === TOKEN);
      expect(grant).toMatchObject({
        method: "POST",
        status: 200,
        clientAuth: seenAs,
        form: { grant_type: "password", username: ALICE.username, scope: "profile" },
      });
      expect(grant?.form.password).toBe(ALICE.password);
      if (seenAs === "basic") {
        expect(grant?.authorization).toBe(
          `Basic ${btoa(`${OAUTH2_CLIENT.id}:${OAUTH2_CLIENT.secret}`)}`,
        );
        expect(grant?.form).not.toHaveProperty("client_id");
        expect(grant?.form).not.toHaveProperty("client_secret");
      } else {
        expect(grant?.authorization).toBeUndefined();
        expect(grant?.form.client_id).toBe(OAUTH2_CLIENT.id);
        expect(grant?.form.client_secret).toBe(OAUTH2_CLIENT.secret);
      }

      // What the server issued is what the session holds; `expires_in` (600 s) sets the expiry.
      expect(server.store.accessTokens.has(before?.accessToken ?? "")).toBe(true);
      expect(server.store.refreshTokens.has(before?.refreshToken ?? "")).toBe(true);
      const lifetime = (before?.accessTokenExpiresAt ?? 0) - clock.now() / 1000;
      expect(lifetime).toBeGreaterThan(590);
      expect(lifetime).toBeLessThanOrEqual(601);
    });
  }

  it("a wrong password (invalid_grant) is InvalidCredentials, and nothing is stored", async () => {
    const { server, client } = await oauth2Setup();
    const browser = client();
    const response = await browser.signIn({ ...ALICE, password: "looking-glass" });
    expect(signInCode(response)).toBe("InvalidCredentials");
    expect(browser.cookies.has(SESSION_COOKIE)).toBe(false);
    expect(server.seen.map(({ path, status, error }) => ({ path, status, error }))).toEqual([
      { path: TOKEN, status: 400, error: "invalid_grant" },
    ]);
  });

  for (const [clientAuthentication, status] of [
    ["client_secret_basic", 401],
    ["client_secret_post", 400],
  ] as const) {
    it(`${clientAuthentication}: a wrong client secret (invalid_client, ${status}) is BackendResponseInvalid, a configuration error logged by its OAuth error code, never with a secret`, async () => {
      const wrongSecret = "not-the-app-secret";
      const { server, client, logger } = await oauth2Setup({
        oauth2: { clientAuthentication, clientSecret: wrongSecret },
      });
      const browser = client();
      const response = await browser.signIn(ALICE);
      expect(signInCode(response)).toBe("BackendResponseInvalid");
      expect(browser.cookies.has(SESSION_COOKIE)).toBe(false);
      expect(server.seen.map(({ path, status, error }) => ({ path, status, error }))).toEqual([
        { path: TOKEN, status, error: "invalid_client" },
      ]);

      expect(logger.lines.some((line) => /^error .*invalid_client/.test(line))).toBe(true);
      const secrets = [
        wrongSecret,
        OAUTH2_CLIENT.secret,
        ALICE.password,
        btoa(`${OAUTH2_CLIENT.id}:${wrongSecret}`),
      ];
      for (const line of logger.lines) {
        for (const secret of secrets) expect(line).not.toContain(secret);
      }
    });
  }

  it("reads the profile from GET /me with the new access token: session.user is { id: sub, name, email }", async () => {
    const { server, browser, before } = await signedInAsAlice();
    const session = await browser.session();
    expect(session?.user).toMatchObject({
      id: OAUTH2_USER.sub,
      name: OAUTH2_USER.name,
      email: OAUTH2_USER.email,
    });
    expect(server.count("/me")).toBe(1);
    const [profile] = server.seen.filter((request) => request.path === "/me");
    expect(profile?.authorization).toBe(`Bearer ${before?.accessToken}`);
    expect(profile?.status).toBe(200);
  });
});

describe("oauth2: refresh with the refresh_token grant", () => {
  for (const [clientAuthentication, seenAs] of CLIENT_AUTHENTICATIONS) {
    it(`${clientAuthentication}: within refreshBufferSeconds of expiry, exactly 1 refresh_token grant, the rotated tokens stored, the old refresh token rejected by the server (invalid_grant)`, async () => {
      const { server, browser, clock, before } = await signedInAsAlice({
        oauth2: { clientAuthentication },
      });
      server.reset();

      clock.advance(500); // ~100 s left, the buffer is 60 s: nothing to do yet
      await browser.session();
      expect(server.count(TOKEN)).toBe(0);

      clock.advance(50); // ~50 s left: inside the buffer
      const session = await browser.session();
      expect(session?.error).toBeUndefined();
      expect(server.count(TOKEN)).toBe(1);
      const [refresh] = server.seen;
      expect(refresh).toMatchObject({
        path: TOKEN,
        status: 200,
        clientAuth: seenAs,
        form: { grant_type: "refresh_token", refresh_token: before?.refreshToken },
      });

      const after = (await browser.token())?.backend;
      expect(after?.accessToken).toBeTruthy();
      expect(after?.accessToken).not.toBe(before?.accessToken);
      expect(after?.refreshToken).toBeTruthy();
      expect(after?.refreshToken).not.toBe(before?.refreshToken);
      expect(server.store.refreshTokens.has(after?.refreshToken ?? "")).toBe(true);
      expect(after?.accessTokenExpiresAt).toBeGreaterThan(clock.now() / 1000 + 590);
      expect(session?.accessTokenExpiresAt).toBe(after?.accessTokenExpiresAt);

      const replay = await refreshByHand(server.url, before?.refreshToken ?? "");
      expect(replay).toMatchObject({ status: 400, body: { error: "invalid_grant" } });
    });
  }

  it("50 concurrent session reads with a due access token: exactly 1 refresh_token grant, all 50 get the same rotated tokens", async () => {
    const { server, browser, clock } = await signedInAsAlice();
    server.reset();
    clock.advance(590);
    const responses = await Promise.all(
      Array.from({ length: 50 }, () => browser.clone().request("/session")),
    );
    expect(server.count(TOKEN)).toBe(1);
    expect(server.count(TOKEN, isRefreshGrant)).toBe(1);
    expect(server.seen[0]?.status).toBe(200);

    const tokens = await Promise.all(responses.map(tokenFromResponse));
    expect(new Set(tokens.map((token) => token?.backend?.accessToken)).size).toBe(1);
    expect(new Set(tokens.map((token) => token?.backend?.refreshToken)).size).toBe(1);
    expect(tokens[0]?.backend?.refreshToken).toBeTruthy();
    for (const response of responses) {
      expect(((await response.json()) as { error?: string }).error).toBeUndefined();
    }
  });

  it("a late request with the pre-rotation cookie within gracePeriodSeconds gets the rotated tokens without a call to the server (which would answer invalid_grant)", async () => {
    const { server, browser, clock, before } = await signedInAsAlice({ gracePeriodSeconds: 5 });
    const late = browser.clone(); // still holds the pre-rotation cookie
    server.reset();
    clock.advance(590);
    await browser.session();
    expect(server.count(TOKEN, isRefreshGrant)).toBe(1);
    const rotated = (await browser.token())?.backend;

    clock.advance(3); // within the 5 s grace period
    const response = await late.request("/session");
    expect(((await response.json()) as { error?: string }).error).toBeUndefined();
    expect(server.count(TOKEN)).toBe(1); // no further call
    const lateState = (await tokenFromResponse(response))?.backend;
    expect(lateState?.refreshToken).toBe(rotated?.refreshToken);
    expect(lateState?.accessToken).toBe(rotated?.accessToken);

    // What presenting the old refresh token would have cost the late request.
    expect(await refreshByHand(server.url, before?.refreshToken ?? "")).toMatchObject({
      status: 400,
      body: { error: "invalid_grant" },
    });
  });

  it("a refresh token revoked at the server: the next refresh gets invalid_grant and the session ends with RefreshTokenRejected", async () => {
    const { server, browser, clock, before } = await signedInAsAlice();
    expect(server.revoke(before?.refreshToken ?? "")).toBe(true);
    server.reset();

    clock.advance(590);
    const session = await browser.session();
    expect(session?.error).toBe("RefreshTokenRejected");
    expect(
      server.seen.map(({ path, status, error, form }) => ({ path, status, error, form })),
    ).toEqual([
      {
        path: TOKEN,
        status: 400,
        error: "invalid_grant",
        form: { grant_type: "refresh_token", refresh_token: before?.refreshToken },
      },
    ]);
    const state = (await browser.token())?.backend;
    expect(state?.refreshToken).toBeUndefined();
    expect(state?.accessToken).toBeUndefined();

    // Ended: no further attempt.
    clock.advance(600);
    expect((await browser.session())?.error).toBe("RefreshTokenRejected");
    expect(server.count(TOKEN)).toBe(1);
  });

  it("the server stopped: RefreshUnavailable and still signed in; restarted (same port, same tokens): recovered after the backoff", async () => {
    const { server, browser, clock, before } = await signedInAsAlice();
    await server.stop();
    server.reset();

    clock.advance(590); // due, still valid for ~10 s
    const down = await browser.session();
    expect(down?.error).toBe("RefreshUnavailable");
    expect(down?.user?.email).toBe(OAUTH2_USER.email);
    expect((await browser.token())?.backend?.refreshToken).toBe(before?.refreshToken);

    await server.restart();
    expect((await browser.session())?.error).toBe("RefreshUnavailable"); // inside the backoff
    expect(server.count(TOKEN)).toBe(0);

    clock.advance(3); // past the backoff
    const recovered = await browser.session();
    expect(recovered?.error).toBeUndefined();
    expect(server.count(TOKEN, isRefreshGrant)).toBe(1);
    expect(server.seen[0]).toMatchObject({
      status: 200,
      form: { refresh_token: before?.refreshToken },
    });
    const after = (await browser.token())?.backend;
    expect(after?.refreshToken).not.toBe(before?.refreshToken);
    expect(server.store.refreshTokens.has(after?.refreshToken ?? "")).toBe(true);
  });
});

describe("oauth2: sign-out with RFC 7009 revocation", () => {
  for (const [clientAuthentication, seenAs] of CLIENT_AUTHENTICATIONS) {
    it(`${clientAuthentication}: sign-out revokes the refresh token (1 revocation call, client authenticated); the server then rejects it (invalid_grant)`, async () => {
      const { server, browser, before } = await signedInAsAlice({
        oauth2: { clientAuthentication },
      });
      server.reset();

      const response = await browser.signOut();
      expect(response.status).toBe(302);
      expect(browser.cookies.has(SESSION_COOKIE)).toBe(false);
      expect(await browser.session()).toBeNull();

      expect(server.count(REVOKE)).toBe(1);
      expect(server.count(TOKEN)).toBe(0);
      const [revocation] = server.seen;
      expect(revocation).toMatchObject({
        method: "POST",
        path: REVOKE,
        status: 200,
        clientAuth: seenAs,
        form: { token: before?.refreshToken, token_type_hint: "refresh_token" },
      });

      expect(server.store.refreshTokens.has(before?.refreshToken ?? "")).toBe(false);
      expect(await refreshByHand(server.url, before?.refreshToken ?? "")).toMatchObject({
        status: 400,
        body: { error: "invalid_grant" },
      });
      // The server also ends the access tokens of that grant (RFC 7009 §2.1).
      const me = await fetch(`${server.url}/me`, {
        headers: { authorization: `Bearer ${before?.accessToken}` },
      });
      expect(me.status).toBe(401);
    });
  }
});
