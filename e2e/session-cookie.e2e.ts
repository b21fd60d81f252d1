import { decode, encode } from "@auth/core/jwt";
import { describe, expect, inject, it } from "vitest";
import { SESSION_COOKIE as PLAIN } from "../test/harness/constants.js";
import {
  APP_URL,
  browserSuite,
  control,
  fillSignIn,
  openContext,
  SESSION_COOKIE,
  USER,
} from "./support.js";

const suite = browserSuite();

const SECURE = `__Secure-${PLAIN}`;

/** A raw request to the built app, as a TLS-terminating proxy (or none) would forward it. */
async function get(path: string, cookie: string, protocol: "http" | "https") {
  const response = await fetch(`${APP_URL}${path}`, {
    headers: { cookie, "x-forwarded-proto": protocol },
    redirect: "manual",
  });
  const body = await response.text();
  const location = response.headers.get("location");
  return { status: response.status, body, location: location ? new URL(location, APP_URL) : null };
}

/**
 * What every entry point of the app makes of one session cookie: the layout's `auth()` (on `/`),
 * the proxy (`/dashboard`, protected), `backend.fetch` in a route handler (`/api/items`, not
 * protected by the proxy) and the refresh route.
 */
async function entryPoints(cookie: string, protocol: "http" | "https") {
  const [home, dashboard, items, refresh] = await Promise.all([
    get("/", cookie, protocol),
    get("/dashboard", cookie, protocol),
    get("/api/items", cookie, protocol),
    get("/api/auth/refresh?callbackUrl=%2Fdashboard", cookie, protocol),
  ]);
  return {
    authSeesUser: home.body.includes('data-testid="signed-in-as"'),
    proxyLetsIn: dashboard.status === 200,
    fetchCallsBackend: items.status === 200,
    refreshRouteKeepsSession: refresh.location?.pathname === "/dashboard",
  };
}

const EVERYWHERE = {
  authSeesUser: true,
  proxyLetsIn: true,
  fetchCallsBackend: true,
  refreshRouteKeepsSession: true,
};
const NOWHERE = {
  authSeesUser: false,
  proxyLetsIn: false,
  fetchCallsBackend: false,
  refreshRouteKeepsSession: false,
};

describe("session cookie rule (next start)", () => {
  it("7 on https only __Secure-authjs.session-token is the session, for auth(), the proxy, backend.fetch and the refresh route alike", async () => {
    const { context, page } = await openContext(suite.browser, "07-session-cookie");
    await page.goto("/signin");
    await fillSignIn(page, USER);
    await page.waitForURL((url) => url.pathname === "/dashboard", { timeout: 60_000 });
    const session = (await context.cookies()).filter((cookie) => SESSION_COOKIE.test(cookie.name));
    expect(session.map((cookie) => cookie.name)).toEqual([PLAIN]);
    const plainValue = session[0]?.value ?? "";

    // The same session sealed under the __Secure- name, as Auth.js writes it on https.
    const secret = inject("appSecret");
    const token = await decode({ token: plainValue, secret, salt: PLAIN });
    expect(token?.email).toBe(USER.email);
    const secureValue = await encode({ token: token ?? {}, secret, salt: SECURE });

    const plain = `${PLAIN}=${plainValue}`;
    const secure = `${SECURE}=${secureValue}`;
    expect(await entryPoints(plain, "http")).toEqual(EVERYWHERE);
    expect(await entryPoints(secure, "https")).toEqual(EVERYWHERE);
    const before = await control.stats();
    // A plain cookie on https could have been planted by any http page of the host.
    expect(await entryPoints(plain, "https")).toEqual(NOWHERE);
    // And a __Secure- cookie is not read on http (Auth.js would not write it there).
    expect(await entryPoints(secure, "http")).toEqual(NOWHERE);
    const after = await control.stats();
    expect(after.items - before.items).toBe(0);
    expect(after.refresh - before.refresh).toBe(0);
  });
});
