/**
 * Backends configured by options alone: request bodies shaped per endpoint (fixed fields, form
 * encoding), expiry units, and misconfigurations that must be loud (redirects, request errors, a
 * refresh transport the backend does not understand). Real servers, the real `Auth()`.
 */
import { describe, expect, it } from "vitest";
import { ADMIN, HOSTILE_USER, hostileSetup, setup, signedIn, signInCode } from "./harness/index.js";

describe("request shaping", () => {
  it('a backend that needs { mode: "session" } in refresh and logout bodies: endpoints.*.fields sends it; without it the refresh is a loud configuration problem, not a sign-out', async () => {
    const requiredFields = { refresh: { mode: "session" }, logout: { mode: "session" } };
    const shaped = await signedIn(
      { tokenPlacement: "body", requiredFields },
      {
        endpoints: {
          refresh: { path: "/auth/refresh", fields: { mode: "session" } },
          logout: { path: "/auth/logout", fields: { mode: "session" } },
        },
      },
    );
    shaped.clock.advance(590);
    expect((await shaped.browser.session())?.error).toBeUndefined();
    expect(shaped.backend.stats.refreshSucceeded).toBe(1);
    const refreshBody = shaped.backend.requests.find((r) => r.endpoint === "refresh")?.body;
    expect(refreshBody).toMatchObject({ mode: "session", refreshToken: expect.any(String) });
    await shaped.browser.signOut();
    expect(shaped.backend.requests.find((r) => r.endpoint === "logout")?.body).toMatchObject({
      mode: "session",
    });

    const unshaped = await signedIn({ tokenPlacement: "body", requiredFields });
    unshaped.clock.advance(590);
    expect((await unshaped.browser.session())?.error).toBe("RefreshUnavailable");
    expect(unshaped.logger.lines).toContain(
      "error refresh: the refresh endpoint answered 400 invalid_request: a configuration problem (client credentials, grant type or request fields), not a rejected token; treated as transient",
    );
  });

  it("a form-encoded backend: encoding form on every endpoint signs in, refreshes and logs out", async () => {
    const form = (path: string) => ({ path, encoding: "form" as const });
    const { backend, browser, clock } = await signedIn(
      { tokenPlacement: "body", formOnly: true },
      {
        endpoints: {
          login: form("/auth/login"),
          refresh: form("/auth/refresh"),
          logout: form("/auth/logout"),
        },
      },
    );
    expect(backend.stats.login).toBe(1);
    clock.advance(590);
    expect((await browser.session())?.error).toBeUndefined();
    expect(backend.stats.refreshSucceeded).toBe(1);
    const refresh = backend.requests.find((r) => r.endpoint === "refresh");
    expect(refresh?.headers["content-type"]).toBe("application/x-www-form-urlencoded");
    await browser.signOut();
    expect(backend.stats.logout).toBe(1);

    // The same backend refuses JSON: sign-in fails, named as a configuration problem.
    const json = await setup({ tokenPlacement: "body", formOnly: true });
    expect(signInCode(await json.client().signIn(ADMIN))).toBe("BackendResponseInvalid");
    expect(json.logger.lines).toContain(
      "error login: the login endpoint answered 415 invalid_request: a configuration problem (client credentials, grant type or request fields), not wrong credentials",
    );
  });

  it("the refresh token goes back in the body field it came in: refresh_token in, refresh_token out", async () => {
    const { backend, browser, clock } = await signedIn({
      tokenPlacement: "body",
      fieldCase: "snake",
    });
    clock.advance(590);
    await browser.session();
    const body = backend.requests.find((r) => r.endpoint === "refresh")?.body as object;
    expect(Object.keys(body)).toEqual(["refresh_token"]);
    expect(backend.stats.refreshSucceeded).toBe(1);
  });
});

describe("expiry units", () => {
  it("expiresIn in milliseconds: unit milliseconds gives the right lifetime; without it the mismatch with the JWT exp is warned about once", async () => {
    const right = await signedIn(
      { expiryStyle: "expires_in_ms", accessTokenTtlSeconds: 600 },
      { expiry: { accessToken: { expiresIn: "expiresIn", unit: "milliseconds" } } },
    );
    const lifetime = (state: { accessTokenExpiresAt?: number; receivedAt: number } | undefined) =>
      Math.round((state?.accessTokenExpiresAt ?? 0) - (state?.receivedAt ?? 0));
    expect(lifetime(right.before)).toBe(600);
    expect(right.logger.lines.filter((line) => /expiry/.test(line))).toEqual([]);

    // A JWT access token (exp in 600 s) next to a field in milliseconds the config reads as
    // seconds. A provider id of its own: the warning is once per process and provider.
    const withMilliseconds: typeof fetch = async (input, init) => {
      const response = await fetch(input, init);
      if (!response.ok || !String(input).endsWith("/auth/login")) return response;
      const body = (await response.json()) as Record<string, unknown>;
      const headers = new Headers(response.headers);
      headers.delete("content-length");
      return Response.json({ ...body, lifetime: 600_000 }, { status: 200, headers });
    };
    const id = `ms-${Date.now()}`;
    const wrong = await setup(
      { accessTokenTtlSeconds: 600 },
      { id, fetch: withMilliseconds, expiry: { accessToken: { expiresIn: "lifetime" } } },
    );
    const browser = wrong.client();
    await browser.signIn(ADMIN, id);
    await browser.clone().signIn(ADMIN, id);
    expect(lifetime((await browser.token())?.backend)).toBe(600_000);
    // One warning for two sign-ins; the JWT's remaining lifetime is 600 s, or 599 once a second
    // has ticked on the backend's clock.
    const warnings = wrong.logger.lines.filter((line) => / the token's own "exp" /.test(line));
    expect(warnings).toEqual([
      expect.stringMatching(
        /^warn \/auth\/login response: the configured expiry\.accessToken gives 600000 s, the token's own "exp" (599|600) s; check the field's unit \(expiresIn: \{ unit: "milliseconds" \}\?\) or use "jwt"$/,
      ),
    ]);
  });
});

describe("loud misconfiguration", () => {
  it("a 301 for a missing trailing slash (Django's APPEND_SLASH): sign-in fails as BackendResponseInvalid and the error names the Location and the fix", async () => {
    const { client, logger } = await setup({ trailingSlash: true });
    expect(signInCode(await client().signIn(ADMIN))).toBe("BackendResponseInvalid");
    expect(logger.lines).toContain(
      'error login: POST /auth/login answered 301, a redirect to /auth/login/ (redirects are not followed; the path lacks its trailing slash: set it to "/auth/login/")',
    );
  });

  it("a 4xx naming a request error at sign-in (unsupported_grant_type) is a configuration problem, not a wrong password", async () => {
    const { backend, client, logger } = await setup();
    backend.injectFault("login", { status: 400, body: { error: "unsupported_grant_type" } });
    expect(signInCode(await client().signIn(ADMIN))).toBe("BackendResponseInvalid");
    expect(logger.lines).toContain(
      "error login: the login endpoint answered 400 unsupported_grant_type: a configuration problem (client credentials, grant type or request fields), not wrong credentials",
    );
  });

  it("the first refresh after sign-in rejected: the log names refreshTokenTransport", async () => {
    const { client, clock, logger } = await hostileSetup(
      {},
      { refreshTokenTransport: { body: "refresh" } },
    );
    const browser = client();
    await browser.signIn(HOSTILE_USER);
    clock.advance(590);
    expect((await browser.session())?.error).toBe("RefreshTokenRejected");
    expect(logger.lines).toContain(
      'warn refresh: the first refresh after sign-in was rejected; if this happens to every session, check refreshTokenTransport (now { body: "refresh" }) and tokens.refreshToken against what /auth/refresh expects',
    );
  });

  it("transientBackoffSeconds: no backend call before it has passed, one after", async () => {
    const { backend, browser, clock } = await signedIn({}, { transientBackoffSeconds: 7 });
    backend.injectFault("refresh", { status: 503, body: { error: "down" } });
    clock.advance(590);
    expect((await browser.session())?.error).toBe("RefreshUnavailable");
    expect(backend.stats.refresh).toBe(1);
    clock.advance(6);
    await browser.session();
    expect(backend.stats.refresh).toBe(1);
    clock.advance(2);
    expect((await browser.session())?.error).toBeUndefined();
    expect(backend.stats.refresh).toBe(2);
  });
});
