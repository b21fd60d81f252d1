/**
 * Foreign redirect targets (`callbackUrl`) through Auth.js sign-in and sign-out and through the
 * Next.js login, refresh and expired routes: every redirect ends on our origin.
 */
import { describe, expect, it } from "vitest";
import { routedPathname, safeCallbackPath } from "../src/lib/redirects.js";
import { ADMIN, locationOf, ORIGIN, SESSION_COOKIE, setup, USER } from "./harness/index.js";
import { nextApp, nextAuthSignIn, nextRequest } from "./harness/next-app.js";

const EVIL = ["https://evil.example/x", "//evil.example", "/\\evil.example", "javascript:alert(1)"];

describe("redirects stay on our origin", () => {
  for (const evil of EVIL) {
    it(`Auth.js sign-in and sign-out with callbackUrl=${evil} end on our origin`, async () => {
      const harness = await setup({ accessTokenTtlSeconds: 600 });
      const browser = harness.client();
      const post = async (path: string, fields: Record<string, string>) => {
        const { csrfToken } = (await (await browser.request("/csrf")).json()) as {
          csrfToken: string;
        };
        return browser.request(path, {
          method: "POST",
          headers: { "content-type": "application/x-www-form-urlencoded" },
          body: new URLSearchParams({ ...fields, csrfToken }),
        });
      };
      // The sign-in page remembers callbackUrl in a cookie: it must not keep the foreign one.
      await browser.request(`/signin?${new URLSearchParams({ callbackUrl: evil })}`);
      const failed = await post("/callback/backend", {
        ...ADMIN,
        password: "wrong",
        callbackUrl: evil,
      });
      expect(locationOf(failed).origin).toBe(ORIGIN);
      const remembered = await post("/callback/backend", ADMIN); // callbackUrl from the cookie
      expect(locationOf(remembered).origin).toBe(ORIGIN);
      const signedIn = await post("/callback/backend", { ...ADMIN, callbackUrl: evil });
      expect(signedIn.status).toBe(302);
      expect(locationOf(signedIn).origin).toBe(ORIGIN);
      expect(browser.cookies.has(SESSION_COOKIE)).toBe(true);

      const signedOut = await post("/signout", { callbackUrl: evil });
      expect(locationOf(signedOut).origin).toBe(ORIGIN);
      expect(browser.cookies.has(SESSION_COOKIE)).toBe(false);
    });

    it(`Next.js login route, refresh route and expired route keep callbackUrl=${evil} on our origin`, async () => {
      const app = await nextApp();
      const { next, browser } = app;
      const signIn = nextAuthSignIn(browser);
      const login = await next.loginRoute(signIn)(
        new Request(`${ORIGIN}/api/login`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ ...USER, callbackUrl: evil }),
        }),
      );
      expect(login.status).toBe(200);
      expect(await login.json()).toEqual({ ok: true, url: "/" });

      const query = new URLSearchParams({ callbackUrl: evil });
      const refresh = await next.refreshRoute.GET(
        nextRequest(`/api/auth/refresh?${query}`, browser.cookieHeader()),
      );
      expect(locationOf(refresh).origin).toBe(ORIGIN);
      const expired = await next.expiredRoute.GET(
        nextRequest(`/api/auth/expired?${query}`, browser.cookieHeader()),
      );
      expect(locationOf(expired).origin).toBe(ORIGIN);
      expect(locationOf(expired).pathname).toBe("/signin");
      expect(locationOf(expired).searchParams.get("callbackUrl")).toBe("/");
    });
  }
});

describe("safeCallbackPath and routedPathname (the rules behind every redirect)", () => {
  const origin = "https://app.example";

  it("keeps same-origin paths with query and hash, absolute or relative", () => {
    expect(safeCallbackPath("/dashboard?tab=1#top", origin)).toBe("/dashboard?tab=1#top");
    expect(safeCallbackPath(`${origin}/admin`, origin)).toBe("/admin");
    expect(safeCallbackPath("items", origin)).toBe("/items");
  });

  it("falls back for values that need cleaning or are not strings: control characters, DEL, over 2048 characters, empty", () => {
    for (const value of ["/dash\tboard", "/dash\nboard", "/x\u0000", "/x\u001f", "/x\u007f"]) {
      expect(safeCallbackPath(value, origin, "/home"), JSON.stringify(value)).toBe("/home");
    }
    expect(safeCallbackPath("/x \u0080y", origin)).toBe("/x%20%C2%80y");
    expect(safeCallbackPath(`/${"a".repeat(2047)}`, origin)).toBe(`/${"a".repeat(2047)}`);
    expect(safeCallbackPath(`/${"a".repeat(2048)}`, origin, "/home")).toBe("/home");
    expect(safeCallbackPath("", origin, "/home")).toBe("/home");
    expect(safeCallbackPath(undefined, origin, "/home")).toBe("/home");
    expect(safeCallbackPath(["/a"], origin, "/home")).toBe("/home");
    expect(safeCallbackPath("/a", "not a url", "/home")).toBe("/home");
  });

  it("routedPathname compares our routes as the server routes them: decoded, slashes collapsed, no trailing slash, any case", () => {
    expect(routedPathname("/API//auth/Expired/")).toBe("/api/auth/expired");
    expect(routedPathname("/api/auth/%65xpired")).toBe("/api/auth/expired");
    expect(routedPathname("/api/auth/expired///")).toBe("/api/auth/expired");
    expect(routedPathname("/%E0%A4%A")).toBe("/%e0%a4%a");
    expect(routedPathname("/")).toBe("/");
    expect(routedPathname("//")).toBe("/");
    expect(routedPathname("/a/")).toBe("/a");
  });
});
