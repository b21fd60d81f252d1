import { describe, expect, it } from "vitest";
import { BackendAuthError, getBackendAuth } from "../src/index.js";
import { ADMIN, type AuthClient, ORIGIN, signedIn } from "./harness/index.js";

/** A request to a route handler of the app, with the browser's cookies. */
const requestOf = (browser: AuthClient) =>
  new Request(`${ORIGIN}/api/anything`, { headers: { cookie: browser.cookieHeader() } });

describe("getBackendAuth (server-side helper)", () => {
  it("returns the access token and the backend cookies for a backend call, which the backend accepts", async () => {
    const { backend, config, browser } = await signedIn({ tokenPlacement: "mixed" });
    const auth = await getBackendAuth(config, requestOf(browser));
    expect(auth.accessToken).toMatch(/^ey/);
    expect(auth.refreshed).toBe(false);
    expect(auth.cookieHeader("/users/me")).toContain("backend_sid=");
    // Path-scoped cookies only go where their Path allows.
    expect(auth.cookieHeader("/users/me")).not.toContain("refresh_token=");
    expect(auth.cookieHeader("/auth/refresh")).toContain("refresh_token=");
    const response = await fetch(new URL("/users/me", backend.url), {
      headers: auth.headers(new URL("/users/me", backend.url)),
    });
    expect(response.status).toBe(200);
    expect(((await response.json()) as { email: string }).email).toBe(ADMIN.email);
  });

  it('with refresh: "auto" refreshes a due token and says so', async () => {
    const { backend, clock, config, browser } = await signedIn({ tokenPlacement: "mixed" });
    clock.advance(590);
    const auth = await getBackendAuth(config, requestOf(browser), { refresh: "auto" });
    expect(auth.refreshed).toBe(true);
    expect(backend.stats.refreshSucceeded).toBe(1);
    expect(auth.token.backend?.accessToken).toBe(auth.accessToken);
  });

  it("by default returns a due-but-valid token without rotating (nothing would save it)", async () => {
    const { backend, clock, config, browser } = await signedIn({ tokenPlacement: "mixed" });
    clock.advance(590);
    const auth = await getBackendAuth(config, requestOf(browser));
    expect(auth.refreshed).toBe(false);
    expect(backend.stats.refresh).toBe(0);
    clock.advance(20); // now expired: it cannot hand out a dead token
    await expect(getBackendAuth(config, requestOf(browser))).rejects.toMatchObject({
      code: "RefreshUnavailable",
      transient: true,
    });
    expect(backend.stats.refresh).toBe(0);
  });

  it("throws NoSession without a cookie and the session error (RefreshTokenRejected) after a rejection", async () => {
    const { backend, clock, config, browser } = await signedIn({ tokenPlacement: "mixed" });
    const anonymous = getBackendAuth(config, new Request(`${ORIGIN}/`));
    await expect(anonymous).rejects.toBeInstanceOf(BackendAuthError);
    await expect(anonymous).rejects.toMatchObject({ code: "NoSession" });
    backend.revokeAll();
    clock.advance(590);
    await expect(
      getBackendAuth(config, requestOf(browser), { refresh: "auto" }),
    ).rejects.toMatchObject({
      code: "RefreshTokenRejected",
      transient: false,
    });
  });
});
