import { describe, expect, it } from "vitest";
import {
  browserSuite,
  expectDashboard,
  expectItems,
  JWT_PATTERN,
  openContext,
  sessionJson,
  signIn,
  USER,
} from "./support.js";

const suite = browserSuite();

const BACKEND_COOKIES = ["refresh_token", "backend_sid", "access_token"];

/** Every key of a JSON value, at any depth. */
function keysOf(value: unknown): string[] {
  if (Array.isArray(value)) return value.flatMap(keysOf);
  if (typeof value !== "object" || value === null) return [];
  return Object.entries(value).flatMap(([key, inner]) => [key, ...keysOf(inner)]);
}

describe("scenario 6: nothing secret reaches the browser", () => {
  it("6 no backend token or backend cookie in cookies, session JSON, HTML or API responses", async () => {
    const { context, page } = await openContext(suite.browser, "06-leakage");
    await signIn(page, USER);
    await expectDashboard(page, USER);
    await expectItems(page, USER);

    // document.cookie: no backend cookie names at all.
    const documentCookie = await page.evaluate(() => document.cookie);
    for (const name of BACKEND_COOKIES) expect(documentCookie).not.toContain(name);
    expect(documentCookie).not.toMatch(JWT_PATTERN);
    // Not even as HttpOnly cookies: the browser never holds the refresh token or backend session.
    const jar = await context.cookies();
    for (const name of BACKEND_COOKIES)
      expect(jar.map((cookie) => cookie.name)).not.toContain(name);
    // The one mirrored backend cookie (copied at sign-in by the server action) is HttpOnly.
    const mirrored = jar.find((cookie) => cookie.name === "theme");
    expect(mirrored, "mirrorBackendCookies copies `theme` at sign-in").toMatchObject({
      value: "dark",
      httpOnly: true,
      sameSite: "Lax",
      path: "/",
    });

    // The session JSON: profile and expiry only.
    const session = await sessionJson(page);
    expect(session?.user).toMatchObject({ email: USER.email, roles: ["user"] });
    expect(typeof session?.accessTokenExpiresAt).toBe("number");
    const keys = keysOf(session);
    for (const key of ["accessToken", "refreshToken", "access_token", "refresh_token", "backend"]) {
      expect(keys).not.toContain(key);
    }
    expect(JSON.stringify(session)).not.toMatch(JWT_PATTERN);

    // The dashboard as the browser received it (HTML with the RSC payload) and as rendered.
    const html = await (await context.request.get("/dashboard")).text();
    expect(html).toContain(USER.email);
    expect(html).not.toMatch(JWT_PATTERN);
    expect(await page.content()).not.toMatch(JWT_PATTERN);
    // Client-side navigation payloads (RSC) and the items API.
    const rsc = await page.evaluate(async () => {
      const response = await fetch("/dashboard", { headers: { RSC: "1" } });
      return response.text();
    });
    expect(rsc).not.toMatch(JWT_PATTERN);
    const items = await (await context.request.get("/api/items")).text();
    expect(items).toContain("Alpha");
    expect(items).not.toMatch(JWT_PATTERN);
  });
});
