/**
 * The session cookie rule (src/session/session-cookie.ts): which cookie a request's session lives
 * in (protocol from AUTH_URL, X-Forwarded-Proto or the URL; `useSecureCookies`; a custom name),
 * how it is decoded (chunks, secrets, the app's own `decode`, unusable headers), and how a
 * request's `Cookie` header is rewritten after Auth.js re-issued the session (whole, chunked,
 * deleted). Real Auth.js `encode`, no servers: every test runs in milliseconds.
 */
import { encode, type JWT } from "@auth/core/jwt";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { BackendTokenState } from "../src/model/types.js";
import {
  decodeSessionCookie,
  readSessionToken,
  replaceSessionCookies,
  type SessionCookieConfig,
  sessionCookieFor,
  sessionCookieNames,
  stateOf,
} from "../src/session/session-cookie.js";
import { SECRET, SESSION_COOKIE } from "./harness/index.js";

const SECURE_SESSION_COOKIE = `__Secure-${SESSION_COOKIE}`;
const PLAIN = { name: SESSION_COOKIE, secure: false };
const SECURE = { name: SECURE_SESSION_COOKIE, secure: true };

/** Every environment variable the rule reads: unset for each test unless the test sets it. */
const ENV = [
  "AUTH_URL",
  "NEXTAUTH_URL",
  "AUTH_SECRET",
  "NEXTAUTH_SECRET",
  "AUTH_SECRET_1",
  "AUTH_SECRET_2",
  "AUTH_SECRET_3",
] as const;

beforeEach(() => {
  for (const name of ENV) vi.stubEnv(name, undefined);
});
afterEach(() => {
  vi.unstubAllEnvs();
});

const STATE: BackendTokenState = {
  provider: "backend",
  accessToken: "access-1",
  accessTokenExpiresAt: 1_800_000_600,
  receivedAt: 1_800_000_000,
  cookies: [{ name: "backend_sid", value: "s1", path: "/" }],
  user: { id: "u1", roles: ["admin"] },
};
const TOKEN: JWT = { sub: "u1", backend: STATE };
/** What decoding a sealed {@link TOKEN} returns: Auth.js adds `iat`, `exp` and `jti`. */
const DECODED = {
  ...TOKEN,
  iat: expect.any(Number),
  exp: expect.any(Number),
  jti: expect.any(String),
};

/** The session cookie `cookieFor` would pick for a request to `url` with `headers`. */
function cookieFor(
  url: string | URL | undefined,
  headers: Record<string, string> = {},
  config: SessionCookieConfig = {},
) {
  return sessionCookieFor(config, { url, headers: new Headers(headers) });
}

/** {@link TOKEN} sealed by Auth.js for the cookie `name` (its salt). */
function sealed(name: string, secret = SECRET): Promise<string> {
  return encode({ token: TOKEN, secret, salt: name });
}

/** `value` split into `count` chunk cookies `name.0`, `name.1`, …, as Auth.js writes them. */
function chunked(name: string, value: string, count: number): string {
  const size = Math.ceil(value.length / count);
  return Array.from(
    { length: count },
    (_, i) => `${name}.${i}=${value.slice(i * size, (i + 1) * size)}`,
  ).join("; ");
}

/** Reads the session of a request to `url` carrying `cookie`. */
function sessionOf(url: string, cookie: string, config: SessionCookieConfig = { secret: SECRET }) {
  return readSessionToken(config, { url, headers: new Headers({ cookie }) });
}

describe("sessionCookieFor", () => {
  it("without proxy headers or AUTH_URL the request URL's protocol decides (http when unknown)", () => {
    expect(cookieFor("http://localhost:3000/x")).toStrictEqual(PLAIN);
    expect(cookieFor("https://localhost:3000/x")).toStrictEqual(SECURE);
    expect(cookieFor(new URL("https://localhost:3000/x"))).toStrictEqual(SECURE);
    expect(cookieFor(undefined)).toStrictEqual(PLAIN);
  });

  it("the first X-Forwarded-Proto value wins over the URL, in any case, with or without colon", () => {
    const behind = (url: string, proto: string) => cookieFor(url, { "x-forwarded-proto": proto });
    expect(behind("http://localhost:3000/", "https")).toStrictEqual(SECURE);
    expect(behind("http://localhost:3000/", "HTTPS")).toStrictEqual(SECURE);
    expect(behind("http://localhost:3000/", "https:")).toStrictEqual(SECURE);
    expect(behind("http://localhost:3000/", "https ,http")).toStrictEqual(SECURE);
    expect(behind("https://localhost:3000/", "http")).toStrictEqual(PLAIN);
    expect(behind("https://localhost:3000/", "http, https")).toStrictEqual(PLAIN);
    expect(behind("https://localhost:3000/", "wss")).toStrictEqual(PLAIN);
  });

  it("an empty X-Forwarded-Proto is ignored", () => {
    expect(cookieFor("https://localhost:3000/", { "x-forwarded-proto": "" })).toStrictEqual(SECURE);
  });

  it("AUTH_URL's protocol wins over X-Forwarded-Proto and the URL; NEXTAUTH_URL when AUTH_URL is unset", () => {
    const behindHttp = () => cookieFor("http://localhost:3000/", { "x-forwarded-proto": "http" });
    const behindHttps = () =>
      cookieFor("https://localhost:3000/", { "x-forwarded-proto": "https" });
    vi.stubEnv("AUTH_URL", "https://app.example.com/auth");
    expect(behindHttp()).toStrictEqual(SECURE);
    vi.stubEnv("AUTH_URL", "http://app.example.com/auth");
    expect(behindHttps()).toStrictEqual(PLAIN);
    vi.stubEnv("NEXTAUTH_URL", "https://app.example.com/auth");
    expect(behindHttps()).toStrictEqual(PLAIN);
    vi.stubEnv("AUTH_URL", undefined);
    expect(behindHttp()).toStrictEqual(SECURE);
  });

  it("an unusable AUTH_URL leaves the decision to the request", () => {
    vi.stubEnv("AUTH_URL", "not a url");
    expect(cookieFor("https://localhost:3000/")).toStrictEqual(SECURE);
    expect(cookieFor("http://localhost:3000/")).toStrictEqual(PLAIN);
  });

  it("useSecureCookies overrides the protocol either way", () => {
    expect(cookieFor("http://localhost:3000/", {}, { useSecureCookies: true })).toStrictEqual(
      SECURE,
    );
    expect(cookieFor("https://localhost:3000/", {}, { useSecureCookies: false })).toStrictEqual(
      PLAIN,
    );
  });

  it("a configured session cookie name is used as is, secure by protocol", () => {
    const custom = { cookies: { sessionToken: { name: "app.session" } } };
    expect(cookieFor("https://localhost:3000/", {}, custom)).toStrictEqual({
      name: "app.session",
      secure: true,
    });
    expect(cookieFor("http://localhost:3000/", {}, custom)).toStrictEqual({
      name: "app.session",
      secure: false,
    });
    expect(cookieFor("https://localhost:3000/", {}, { cookies: {} })).toStrictEqual(SECURE);
  });
});

describe("readSessionToken", () => {
  it("decodes the session cookie of the request's protocol, next to other cookies", async () => {
    const cookie = `a=1; ${SESSION_COOKIE}=${await sealed(SESSION_COOKIE)}; b=2`;
    expect(await sessionOf("http://localhost:3000/x", cookie)).toStrictEqual(DECODED);
    const secure = `${SECURE_SESSION_COOKIE}=${await sealed(SECURE_SESSION_COOKIE)}`;
    expect(await sessionOf("https://localhost:3000/x", secure)).toStrictEqual(DECODED);
  });

  it("a plain session cookie on an https request is no session", async () => {
    const cookie = `${SESSION_COOKIE}=${await sealed(SESSION_COOKIE)}`;
    expect(await sessionOf("https://localhost:3000/x", cookie)).toBeNull();
  });

  it("a session split into chunk cookies is reassembled", async () => {
    const cookie = chunked(SESSION_COOKIE, await sealed(SESSION_COOKIE), 3);
    expect(await sessionOf("http://localhost:3000/x", cookie)).toStrictEqual(DECODED);
  });

  it("a cookie sealed with another secret, or tampered with, is no session", async () => {
    const other = await sealed(SESSION_COOKIE, "another-secret-of-at-least-32-characters");
    expect(await sessionOf("http://localhost:3000/", `${SESSION_COOKIE}=${other}`)).toBeNull();
    const value = await sealed(SESSION_COOKIE);
    const tampered = `${value.slice(0, -4)}${value.endsWith("AAAA") ? "BBBB" : "AAAA"}`;
    expect(await sessionOf("http://localhost:3000/", `${SESSION_COOKIE}=${tampered}`)).toBeNull();
  });

  it("without config.secret the AUTH_SECRET variables unseal", async () => {
    const cookie = `${SESSION_COOKIE}=${await sealed(SESSION_COOKIE)}`;
    vi.stubEnv("AUTH_SECRET", SECRET);
    expect(await sessionOf("http://localhost:3000/", cookie, {})).toStrictEqual(DECODED);
  });

  it("a request without a Cookie header is no session", async () => {
    const request = { url: "http://localhost:3000/", headers: new Headers() };
    expect(await readSessionToken({ secret: SECRET }, request)).toBeNull();
  });
});

describe("decodeSessionCookie", () => {
  const acceptAnything = { jwt: { decode: async () => ({ sub: "from-app-decode" }) } };

  it("the app's own decode reads the session cookie", async () => {
    const config = { secret: SECRET, ...acceptAnything };
    expect(await decodeSessionCookie(config, `${SESSION_COOKIE}=opaque`, PLAIN)).toStrictEqual({
      sub: "from-app-decode",
    });
  });

  it("no secret at all is no session, even with a decode that accepts anything", async () => {
    expect(await decodeSessionCookie(acceptAnything, `${SESSION_COOKIE}=opaque`, PLAIN)).toBeNull();
  });

  it("no Cookie header, or one without the session cookie, is no session", async () => {
    const config = { secret: SECRET, ...acceptAnything };
    expect(await decodeSessionCookie(config, null, PLAIN)).toBeNull();
    expect(await decodeSessionCookie(config, "", PLAIN)).toBeNull();
    expect(await decodeSessionCookie(config, `${SECURE_SESSION_COOKIE}=x`, PLAIN)).toBeNull();
  });

  it("a Cookie header that is no valid header value is no session (no exception)", async () => {
    const config = { secret: SECRET, ...acceptAnything };
    expect(await decodeSessionCookie(config, `${SESSION_COOKIE}=a\0b`, PLAIN)).toBeNull();
  });
});

describe("stateOf", () => {
  it("is the backend state of a decoded token, undefined without a token or state", () => {
    expect(stateOf(TOKEN)).toBe(STATE);
    expect(stateOf({ sub: "u1" })).toBeUndefined();
    expect(stateOf(null)).toBeUndefined();
  });
});

describe("sessionCookieNames", () => {
  it("lists the session cookie and its numeric chunks only, in header order", () => {
    const header = [
      "a=1",
      `${SESSION_COOKIE}.1=y`,
      `${SESSION_COOKIE}=x`,
      `${SESSION_COOKIE}.12=z`,
      `${SESSION_COOKIE}.=w`,
      `${SESSION_COOKIE}.x=v`,
      `${SESSION_COOKIE}x0=u`,
      `${SESSION_COOKIE}.1a=t`,
      `${SESSION_COOKIE}.x1=t`,
      `${SECURE_SESSION_COOKIE}=s`,
      `x${SESSION_COOKIE}=r`,
    ].join("; ");
    expect(sessionCookieNames(header, SESSION_COOKIE)).toStrictEqual([
      `${SESSION_COOKIE}.1`,
      SESSION_COOKIE,
      `${SESSION_COOKIE}.12`,
    ]);
    expect(sessionCookieNames("", SESSION_COOKIE)).toStrictEqual([]);
  });
});

describe("replaceSessionCookies", () => {
  /** `replaceSessionCookies` for the default session cookie. */
  const replace = (header: string, setCookies: string[]) =>
    replaceSessionCookies(header, setCookies, SESSION_COOKIE);

  it("without a session Set-Cookie the header is returned untouched, byte for byte", () => {
    const header = `a=1;b=x%20y;${SESSION_COOKIE}=old`;
    expect(replace(header, [])).toBe(header);
    expect(replace(header, ["other=1; Path=/", `${SESSION_COOKIE}x=1`])).toBe(header);
  });

  it("a re-issued session replaces the old one; other cookies stay raw, the session comes last", () => {
    expect(
      replace(`a=1; ${SESSION_COOKIE}=old; b=x%20y`, [
        "other=1; Path=/",
        `${SESSION_COOKIE}=new; Path=/; HttpOnly; SameSite=Lax`,
      ]),
    ).toBe(`a=1; b=x%20y; ${SESSION_COOKIE}=new`);
  });

  it("a chunked session becomes whole, and a whole one chunked", () => {
    expect(
      replace(`${SESSION_COOKIE}.0=p; ${SESSION_COOKIE}.1=q; a=1`, [
        `${SESSION_COOKIE}=new; Path=/`,
        `${SESSION_COOKIE}.0=; Max-Age=0; Path=/`,
        `${SESSION_COOKIE}.1=; Max-Age=0; Path=/`,
      ]),
    ).toBe(`a=1; ${SESSION_COOKIE}=new`);
    expect(
      replace(`${SESSION_COOKIE}=old`, [
        `${SESSION_COOKIE}.0=p; Path=/`,
        `${SESSION_COOKIE}.1=q; Path=/`,
        `${SESSION_COOKIE}=; Max-Age=0; Path=/`,
      ]),
    ).toBe(`${SESSION_COOKIE}.0=p; ${SESSION_COOKIE}.1=q`);
  });

  it("Max-Age=0, the 1970 Expires (any case, any spacing) or an empty value delete the session", () => {
    for (const setCookie of [
      `${SESSION_COOKIE}=x; Max-Age=0`,
      `${SESSION_COOKIE}=x;Max-Age=0; Path=/`,
      `${SESSION_COOKIE}=x; Path=/;  max-age=0`,
      `${SESSION_COOKIE}=x; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Path=/`,
      `${SESSION_COOKIE}=x;expires=thu, 01 jan 1970 00:00:00 gmt`,
      `${SESSION_COOKIE}=; Path=/`,
    ]) {
      expect(replace(`a=1; ${SESSION_COOKIE}=old`, [setCookie]), setCookie).toBe("a=1");
    }
  });

  it("a later expiry keeps the new value: Max-Age=0600 is ten minutes, Expires in 2099 is no deletion", () => {
    for (const attributes of ["Max-Age=0600", "Expires=Thu, 01 Jan 2099 00:00:00 GMT"]) {
      expect(replace(`${SESSION_COOKIE}=old`, [`${SESSION_COOKIE}=new; ${attributes}`])).toBe(
        `${SESSION_COOKIE}=new`,
      );
    }
  });

  it("the last Set-Cookie of a name wins", () => {
    expect(
      replace("a=1", [
        `${SESSION_COOKIE}.0=p`,
        `${SESSION_COOKIE}.0=; Max-Age=0`,
        `${SESSION_COOKIE}=w`,
      ]),
    ).toBe(`a=1; ${SESSION_COOKIE}=w`);
    expect(replace("a=1", [`${SESSION_COOKIE}=; Max-Age=0`, `${SESSION_COOKIE}=again`])).toBe(
      `a=1; ${SESSION_COOKIE}=again`,
    );
  });

  it("lines without a name, without '=', or for other cookies set nothing", () => {
    expect(
      replace("a=1", [`${SESSION_COOKIE}=new`, `${SESSION_COOKIE}.12`, "=orphan", "b=2; Path=/"]),
    ).toBe(`a=1; ${SESSION_COOKIE}=new`);
  });

  it("a line that only names a session chunk, without '=', leaves the session in the header as it was", () => {
    const header = `a=1; ${SESSION_COOKIE}=old`;
    expect(replace(header, [`${SESSION_COOKIE}.12`])).toBe(header);
    expect(replace(header, [`${SESSION_COOKIE}.1; Max-Age=0`, `${SESSION_COOKIE}X`])).toBe(header);
  });

  it("spaces around the Set-Cookie name and value are trimmed", () => {
    expect(replace("a=1", [` ${SESSION_COOKIE} =  new  ; Path=/`])).toBe(
      `a=1; ${SESSION_COOKIE}=new`,
    );
  });

  it("works for any session cookie name, even a one-letter one", () => {
    expect(replaceSessionCookies("s=old; t=1; s.0=c", ["s=new; Path=/"], "s")).toBe("t=1; s=new");
  });
});
