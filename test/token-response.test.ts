/**
 * Pins `readTokenResponse` (src/session/token-response.ts), a pure function: which body paths and
 * cookies the tokens are read from, every expiry style (relative and absolute fields in seconds or
 * milliseconds, ISO dates, numeric strings, JWT `exp`, configured rules, cookie `Max-Age`), the
 * backend-clock correction (`Date` header, else a JWT `iat` in our future), the cookie problems it
 * reports and the exact `BackendResponseInvalid` errors it throws. Called directly on responses
 * built here, with options from the real `resolveOptions`: no server, no I/O.
 */
import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import { BackendAuthError, type BackendCredentialsOptions } from "../src/index.js";
import { resolveOptions } from "../src/model/options.js";
import { type BackendResponse, INVALID_JSON } from "../src/session/backend-http.js";
import { readTokenResponse, type TokenSet } from "../src/session/token-response.js";
import { recordingLogger } from "./harness/index.js";

/** 2027-01-15T08:00:00Z, in seconds: our clock in every test. */
const NOW = 1_800_000_000;
const LOGIN_URL = new URL("https://api.example.com/auth/login");
const TOLERANCE = 10; // clockToleranceSeconds' default

/** Options from the real resolver, with a provider id of their own (warnOnce is per id). */
function optionsWith(given: Partial<BackendCredentialsOptions> = {}) {
  const logger = recordingLogger();
  const options = resolveOptions({
    baseUrl: "https://api.example.com",
    id: `provider-${randomUUID()}`,
    logger,
    ...given,
  });
  return { options, logger };
}

/** A 2xx login response as `callBackend` hands it over. */
function loginResponse(
  body: unknown,
  headers: Array<[string, string]> = [],
  status = 200,
): BackendResponse {
  return { status, headers: new Headers(headers), body, url: LOGIN_URL };
}

interface ReadOptions {
  headers?: Array<[string, string]>;
  provider?: Partial<BackendCredentialsOptions>;
  reserved?: ReadonlySet<string>;
}

/** Reads `body` (plus headers) and returns the tokens, the cookie problems and the log lines. */
function read(
  body: unknown,
  { headers = [], provider = {}, reserved = new Set() }: ReadOptions = {},
) {
  const { options, logger } = optionsWith(provider);
  const problems: string[] = [];
  const tokens = readTokenResponse(options, loginResponse(body, headers), NOW, reserved, (line) =>
    problems.push(line),
  );
  return { tokens, problems, lines: logger.lines };
}

/** The access token's expiry read from `body`, relative to NOW. */
function accessExpiryOf(body: Record<string, unknown>, options: ReadOptions = {}): number {
  return read({ accessToken: "opaque", ...body }, options).tokens.accessTokenExpiresAt - NOW;
}

/** The error `readTokenResponse` throws for `body`. */
function readError(body: unknown, options: ReadOptions & { status?: number } = {}) {
  const { options: resolved } = optionsWith(options.provider);
  try {
    readTokenResponse(
      resolved,
      loginResponse(body, options.headers, options.status),
      NOW,
      options.reserved ?? new Set(),
      () => {},
    );
  } catch (error) {
    expect(error).toBeInstanceOf(BackendAuthError);
    const { code, message, status } = error as BackendAuthError;
    return { code, message, status };
  }
  throw new Error("readTokenResponse did not throw");
}

/** An unsigned JWT with these claims (only the payload is read). */
function jwt(claims: Record<string, unknown>): string {
  return rawJwt(JSON.stringify(claims));
}

/** An unsigned JWT whose payload is exactly `payloadJson` (e.g. `{"exp":1e999}`). */
function rawJwt(payloadJson: string): string {
  return `eyJhbGciOiJIUzI1NiJ9.${Buffer.from(payloadJson).toString("base64url")}.c2lnbmF0dXJl`;
}

/** An HTTP `Date` header `offsetSeconds` from NOW. */
const dateHeader = (offsetSeconds: number): [string, string] => [
  "date",
  new Date((NOW + offsetSeconds) * 1000).toUTCString(),
];

const NO_COOKIES: TokenSet["cookies"] = { set: [], deleted: [] };
const CANNOT_TELL =
  '/auth/login response: cannot tell when the access token expires (it is not a JWT with "exp" and no expiry field or cookie Max-Age was found); set expiry.accessToken, e.g. { lifetimeSeconds: 900 }';

describe("readTokenResponse: where the tokens are", () => {
  it("reads body tokens and expires_in, records the refresh token's field, and nothing else", () => {
    const { tokens, problems } = read({
      accessToken: "access-1",
      refreshToken: "refresh-1",
      expires_in: 900,
    });
    expect(tokens).toStrictEqual({
      accessToken: "access-1",
      accessTokenExpiresAt: NOW + 900,
      receivedAt: NOW,
      refreshToken: "refresh-1",
      refreshTokenField: "refreshToken",
      cookies: NO_COOKIES,
    });
    expect(problems).toEqual([]);
  });

  it("skips empty and non-string values and tries the default paths in order", () => {
    const { tokens } = read({
      accessToken: "",
      access_token: 42,
      token: "third-path",
      refreshToken: 7,
      refresh_token: "second-path",
      expires_in: 60,
    });
    expect(tokens.accessToken).toBe("third-path");
    expect(tokens.refreshToken).toBe("second-path");
    expect(tokens.refreshTokenField).toBe("refresh_token");
  });

  it("the first default path wins when several hold a token", () => {
    const { tokens } = read({ accessToken: "first", token: "third", expires_in: 60 });
    expect(tokens.accessToken).toBe("first");
  });

  it("nested paths: the expiry next to the token wins over the top level, the field is the last segment", () => {
    const { tokens } = read(
      {
        data: { accessToken: "a", refresh_token: "r", expires_in: 100, refresh_expires_in: 1000 },
        expires_in: 200,
        refresh_expires_in: 2000,
      },
      {
        provider: {
          tokens: {
            accessToken: { body: "data.accessToken" },
            refreshToken: { body: "data.refresh_token" },
          },
        },
      },
    );
    expect(tokens).toStrictEqual({
      accessToken: "a",
      accessTokenExpiresAt: NOW + 100,
      receivedAt: NOW,
      refreshToken: "r",
      refreshTokenField: "refresh_token",
      refreshTokenExpiresAt: NOW + 1000,
      cookies: NO_COOKIES,
    });
  });

  it("nested token without an expiry beside it: the top-level expiry applies", () => {
    const { tokens } = read(
      { data: { accessToken: "a" }, expires_in: 200 },
      { provider: { tokens: { accessToken: { body: "data.accessToken" } } } },
    );
    expect(tokens.accessTokenExpiresAt).toBe(NOW + 200);
  });

  it("a token held in an array is found, and the array is not searched for expiry fields", () => {
    const { tokens } = read(
      { list: ["a"], expires_in: 300 },
      { provider: { tokens: { accessToken: { body: "list.0" } } } },
    );
    expect(tokens.accessToken).toBe("a");
    expect(tokens.accessTokenExpiresAt).toBe(NOW + 300);
  });

  it("a refresh path whose last segment is empty records no field", () => {
    const { tokens } = read(
      { accessToken: "a", expires_in: 60, data: { "": "r" } },
      { provider: { tokens: { refreshToken: { body: "data." } } } },
    );
    expect(tokens).toStrictEqual({
      accessToken: "a",
      accessTokenExpiresAt: NOW + 60,
      receivedAt: NOW,
      refreshToken: "r",
      cookies: NO_COOKIES,
    });
  });

  it("cookie-borne tokens stay in the cookies, their expiry comes from Max-Age (no body at all)", () => {
    const { tokens } = read(undefined, {
      headers: [
        ["set-cookie", "at=A1; Max-Age=900; Path=/"],
        ["set-cookie", "rt=R1; Max-Age=86400; Path=/auth; HttpOnly"],
      ],
      provider: { tokens: { accessToken: { cookie: "at" }, refreshToken: { cookie: "rt" } } },
    });
    expect(tokens).toStrictEqual({
      accessTokenExpiresAt: NOW + 900,
      receivedAt: NOW,
      refreshTokenExpiresAt: NOW + 86400,
      cookies: {
        set: [
          { name: "at", value: "A1", path: "/", expiresAt: NOW + 900 },
          { name: "rt", value: "R1", path: "/auth", expiresAt: NOW + 86400, httpOnly: true },
        ],
        deleted: [],
      },
    });
  });

  it("a cookie-borne token's expiry field in the body wins over its Max-Age", () => {
    const { tokens } = read(
      { expires_in: 300 },
      {
        headers: [["set-cookie", "at=A1; Max-Age=900; Path=/"]],
        provider: { tokens: { accessToken: { cookie: "at" } } },
      },
    );
    expect(tokens.accessTokenExpiresAt).toBe(NOW + 300);
  });

  it("a body token wins over its cookie; an empty body value falls back to the cookie", () => {
    const provider = { tokens: { accessToken: { body: "accessToken", cookie: "at" } } };
    const headers: Array<[string, string]> = [["set-cookie", "at=from-cookie; Max-Age=900"]];
    expect(
      read({ accessToken: "from-body", expires_in: 60 }, { headers, provider }).tokens,
    ).toEqual(
      expect.objectContaining({ accessToken: "from-body", accessTokenExpiresAt: NOW + 60 }),
    );
    const fallback = read({ accessToken: "" }, { headers, provider }).tokens;
    expect(fallback.accessToken).toBeUndefined();
    expect(fallback.accessTokenExpiresAt).toBe(NOW + 900);
  });

  it("a deleted cookie is reported as deleted, not as a token", () => {
    const { tokens } = read(
      { accessToken: "a", expires_in: 60 },
      { headers: [["set-cookie", "old=; Max-Age=0; Path=/"]] },
    );
    expect(tokens.cookies).toStrictEqual({ set: [], deleted: [{ name: "old", path: "/" }] });
  });
});

describe("readTokenResponse: errors", () => {
  it("a body that is not JSON is BackendResponseInvalid with the status", () => {
    expect(readError(INVALID_JSON, { status: 201 })).toEqual({
      code: "BackendResponseInvalid",
      message: "/auth/login response is not JSON",
      status: 201,
    });
  });

  it("no access token names every place that was looked at", () => {
    expect(readError({ refreshToken: "r", expires_in: 60 }, { status: 200 })).toEqual({
      code: "BackendResponseInvalid",
      message:
        '/auth/login response has no access token at body "accessToken" or body "access_token" or body "token"',
      status: 200,
    });
    expect(
      readError(
        {},
        {
          provider: {
            tokens: { accessToken: { body: ["accessToken", "data.token"], cookie: "at" } },
          },
        },
      ).message,
    ).toBe(
      '/auth/login response has no access token at body "accessToken" or body "data.token" or cookie "at"',
    );
  });

  it("an access cookie without a value is no token, even after another cookie with one", () => {
    const error = readError(undefined, {
      headers: [
        ["set-cookie", "other=x; Path=/"],
        ["set-cookie", "at=; Path=/"],
      ],
      provider: { tokens: { accessToken: { cookie: "at" } } },
    });
    expect(error.message).toBe('/auth/login response has no access token at cookie "at"');
  });

  it("tokens that could not travel in a header are refused, naming which", () => {
    expect(readError({ accessToken: "a b", expires_in: 60 })).toEqual({
      code: "BackendResponseInvalid",
      message:
        "/auth/login response: the access token is not a valid header value (only visible ASCII is accepted)",
      status: 200,
    });
    expect(readError({ accessToken: "a", refreshToken: "r\u00e9", expires_in: 60 }).message).toBe(
      "/auth/login response: the refresh token is not a valid header value (only visible ASCII is accepted)",
    );
  });

  it("an opaque token without any expiry is BackendResponseInvalid, saying how to fix it", () => {
    expect(readError({ accessToken: "opaque" }, { status: 200 })).toEqual({
      code: "BackendResponseInvalid",
      message: CANNOT_TELL,
      status: 200,
    });
  });
});

describe("readTokenResponse: backend cookie problems", () => {
  it("reports refused and oversized cookies, by name, even when the body is not JSON", () => {
    const problems: string[] = [];
    const { options } = optionsWith();
    const response = loginResponse(INVALID_JSON, [
      ["set-cookie", "authjs.session-token=x; Path=/"],
      ["set-cookie", "app-session=x; Path=/"],
      ["set-cookie", "=nameless"],
      ["set-cookie", 'quoted=a"b'],
      ["set-cookie", `big=${"v".repeat(4096)}; Path=/`],
    ]);
    expect(() =>
      readTokenResponse(options, response, NOW, new Set(["app-session"]), (line) =>
        problems.push(line),
      ),
    ).toThrow("/auth/login response is not JSON");
    expect(problems).toEqual([
      'ignored backend cookie "authjs.session-token": ReservedName',
      'ignored backend cookie "app-session": ReservedName',
      "ignored backend cookie (unprintable name): Malformed",
      'ignored backend cookie "quoted": InvalidValue',
      'backend cookie "big" exceeds 4096 bytes; browsers would drop it',
    ]);
  });
});

describe("readTokenResponse: relative expiry fields", () => {
  it("every relative access field name is read, in seconds", () => {
    const names = ["expiresIn", "expires_in", "accessTokenExpiresIn", "access_token_expires_in"];
    expect(names.map((name) => accessExpiryOf({ [name]: 900 }))).toEqual([900, 900, 900, 900]);
  });

  it("every relative refresh field name is read, and access fields never give the refresh expiry", () => {
    const names = [
      "refreshExpiresIn",
      "refresh_expires_in",
      "refreshTokenExpiresIn",
      "refresh_token_expires_in",
    ];
    const expiries = names.map(
      (name) =>
        read({ accessToken: "a", refreshToken: "r", expires_in: 60, [name]: 86400 }).tokens
          .refreshTokenExpiresAt,
    );
    expect(expiries).toEqual(names.map(() => NOW + 86400));
    const withoutRefreshField = read({ accessToken: "a", refreshToken: "r", expires_in: 60 });
    expect(withoutRefreshField.tokens).not.toHaveProperty("refreshTokenExpiresAt");
  });

  it("a relative field wins over an absolute one in the same object", () => {
    expect(accessExpiryOf({ expires_in: 900, expires_at: NOW + 100 })).toBe(900);
  });

  it("0 seconds is read (expires now); a negative value is not", () => {
    expect(accessExpiryOf({ expires_in: 0, expires_at: NOW + 100 })).toBe(0);
    expect(accessExpiryOf({ expires_in: -1, expires_at: NOW + 100 })).toBe(100);
  });

  it("numeric strings are read (trimmed, with decimals); anything else falls through", () => {
    expect(accessExpiryOf({ expires_in: " 900 " })).toBe(900);
    expect(accessExpiryOf({ expires_in: "900.25" })).toBe(900.25);
    const notNumbers = ["+900", "9e2", "-900", "900s", "9.", "", "9".repeat(400), null, {}, true];
    expect(
      notNumbers.map((value) => accessExpiryOf({ expires_in: value, expires_at: NOW + 100 })),
    ).toEqual(notNumbers.map(() => 100));
  });

  it("a non-finite number (1e999 in the JSON) is not read", () => {
    const body = JSON.parse(`{"accessToken":"a","expires_in":1e999,"expires_at":${NOW + 100}}`);
    expect(read(body).tokens.accessTokenExpiresAt).toBe(NOW + 100);
  });
});

describe("readTokenResponse: absolute expiry fields", () => {
  it("every absolute access field name is read, in seconds since the epoch", () => {
    const names = ["expiresAt", "expires_at", "accessTokenExpiresAt", "access_token_expires_at"];
    expect(names.map((name) => accessExpiryOf({ [name]: NOW + 900 }))).toEqual([
      900, 900, 900, 900,
    ]);
  });

  it("every absolute refresh field name is read", () => {
    const names = [
      "refreshExpiresAt",
      "refresh_expires_at",
      "refreshTokenExpiresAt",
      "refresh_token_expires_at",
    ];
    const expiries = names.map(
      (name) =>
        read({ accessToken: "a", refreshToken: "r", expires_in: 60, [name]: NOW + 86400 }).tokens
          .refreshTokenExpiresAt,
    );
    expect(expiries).toEqual(names.map(() => NOW + 86400));
  });

  it("milliseconds are told from seconds above 10^11", () => {
    expect(accessExpiryOf({ expires_at: (NOW + 900) * 1000 })).toBe(900);
    expect(read({ accessToken: "a", expires_at: 1e11 }).tokens.accessTokenExpiresAt).toBe(1e11);
    expect(read({ accessToken: "a", expires_at: 1e11 + 1 }).tokens.accessTokenExpiresAt).toBe(
      (1e11 + 1) / 1000,
    );
  });

  it("ISO dates and numeric strings are read", () => {
    expect(accessExpiryOf({ expires_at: "2027-01-15T08:15:00Z" })).toBe(900);
    expect(accessExpiryOf({ expires_at: String(NOW + 900) })).toBe(900);
  });

  it("0, unparseable dates and non-strings are not an expiry", () => {
    expect(readError({ accessToken: "a", expires_at: 0 }).message).toBe(CANNOT_TELL);
    expect(readError({ accessToken: "a", expires_at: "soon" }).message).toBe(CANNOT_TELL);
    // Only strings are parsed as dates: an array whose text is a date is not one.
    expect(readError({ accessToken: "a", expires_at: ["2027-01-15T08:15:00Z"] }).message).toBe(
      CANNOT_TELL,
    );
  });

  it("an absolute time on a backend clock 120 s ahead (Date header) is moved onto ours", () => {
    expect(accessExpiryOf({ expires_at: NOW + 1020 }, { headers: [dateHeader(120)] })).toBe(900);
  });
});

describe("readTokenResponse: JWT exp", () => {
  it("the token's own exp wins over an expiry field with the default rule", () => {
    const { tokens } = read({
      accessToken: jwt({ exp: NOW + 300 }),
      refreshToken: jwt({ exp: NOW + 7200 }),
      expires_in: 900,
      refresh_expires_in: 86400,
    });
    expect(tokens.accessTokenExpiresAt).toBe(NOW + 300);
    expect(tokens.refreshTokenExpiresAt).toBe(NOW + 7200);
  });

  it('"jwt": only exp counts; an opaque token has no expiry even beside an expiry field', () => {
    const provider: Partial<BackendCredentialsOptions> = {
      expiry: { accessToken: "jwt", refreshToken: "jwt" },
    };
    expect(
      read({ accessToken: jwt({ exp: NOW + 300 }) }, { provider }).tokens.accessTokenExpiresAt,
    ).toBe(NOW + 300);
    expect(readError({ accessToken: "opaque", expires_in: 900 }, { provider }).message).toBe(
      CANNOT_TELL,
    );
    const refresh = read(
      { accessToken: jwt({ exp: NOW + 300 }), refreshToken: "opaque", refresh_expires_in: 60 },
      { provider },
    );
    expect(refresh.tokens).not.toHaveProperty("refreshTokenExpiresAt");
  });

  it("what is not a JWT with a finite numeric exp falls back to the expiry fields", () => {
    const notJwts = [
      `${jwt({ exp: NOW + 300 })}.extra`, // four segments
      "not.a.jwt", // three segments that do not decode
      jwt({ exp: String(NOW + 300) }),
      jwt({ sub: "u1" }),
      rawJwt('{"exp":1e999}'),
    ];
    expect(notJwts.map((token) => accessExpiryOf({ accessToken: token, expires_in: 900 }))).toEqual(
      [900, 900, 900, 900, 900],
    );
  });

  it("without a Date header, an iat more than the tolerance in our future moves exp onto our clock", () => {
    const exp = (iatAhead: number) =>
      accessExpiryOf({ accessToken: jwt({ iat: NOW + iatAhead, exp: NOW + iatAhead + 900 }) });
    expect(exp(120)).toBe(900);
    expect(exp(TOLERANCE + 1)).toBe(900);
    expect(exp(TOLERANCE)).toBe(TOLERANCE + 900);
  });

  it("an iat in the past says nothing about clocks: the remaining lifetime is not stretched", () => {
    expect(accessExpiryOf({ accessToken: jwt({ iat: NOW - 3600, exp: NOW + 300 }) })).toBe(300);
  });

  it("a non-numeric iat is ignored", () => {
    expect(accessExpiryOf({ accessToken: jwt({ iat: String(NOW + 120), exp: NOW + 1020 }) })).toBe(
      1020,
    );
  });

  it("with a valid Date header the iat is ignored, within the tolerance no correction at all", () => {
    const token = jwt({ iat: NOW + 120, exp: NOW + 1020 });
    expect(accessExpiryOf({ accessToken: token }, { headers: [dateHeader(0)] })).toBe(1020);
  });

  it("an unparseable Date header corrects nothing and leaves the iat fallback in place", () => {
    const headers: Array<[string, string]> = [["date", "yesterday-ish"]];
    expect(accessExpiryOf({ accessToken: jwt({ exp: NOW + 300 }) }, { headers })).toBe(300);
    expect(
      accessExpiryOf({ accessToken: jwt({ iat: NOW + 120, exp: NOW + 1020 }) }, { headers }),
    ).toBe(900);
  });

  it("the Date header's offset is applied both ways, beyond the tolerance only", () => {
    const exp = (skew: number) =>
      accessExpiryOf(
        { accessToken: jwt({ exp: NOW + skew + 900 }) },
        { headers: [dateHeader(skew)] },
      );
    expect(exp(120)).toBe(900);
    expect(exp(-120)).toBe(900);
    expect(exp(TOLERANCE + 1)).toBe(900);
    expect(exp(-(TOLERANCE + 1))).toBe(900);
    expect(exp(TOLERANCE)).toBe(TOLERANCE + 900);
    expect(exp(-TOLERANCE)).toBe(900 - TOLERANCE);
  });
});

describe("readTokenResponse: configured expiry", () => {
  it("lifetimeSeconds counts from receipt", () => {
    const provider: Partial<BackendCredentialsOptions> = {
      expiry: { accessToken: { lifetimeSeconds: 900 }, refreshToken: { lifetimeSeconds: 86400 } },
    };
    const { tokens } = read({ accessToken: "a", refreshToken: "r", expires_in: 60 }, { provider });
    expect(tokens.accessTokenExpiresAt).toBe(NOW + 900);
    expect(tokens.refreshTokenExpiresAt).toBe(NOW + 86400);
  });

  it("expiresIn reads its path in seconds by default, or in milliseconds", () => {
    expect(
      accessExpiryOf(
        { data: { ttl: 900 }, expires_in: 60 },
        { provider: { expiry: { accessToken: { expiresIn: "data.ttl" } } } },
      ),
    ).toBe(900);
    expect(
      accessExpiryOf(
        { ttl: 900_000 },
        { provider: { expiry: { accessToken: { expiresIn: "ttl", unit: "milliseconds" } } } },
      ),
    ).toBe(900);
  });

  it("expiresAt reads its path as an absolute time, on the backend's clock", () => {
    const provider: Partial<BackendCredentialsOptions> = {
      expiry: { accessToken: { expiresAt: "validUntil" } },
    };
    expect(accessExpiryOf({ validUntil: "2027-01-15T08:15:00Z" }, { provider })).toBe(900);
    expect(
      accessExpiryOf({ validUntil: NOW + 1020 }, { provider, headers: [dateHeader(120)] }),
    ).toBe(900);
  });

  it("a configured field that is missing is no expiry, even when the token has exp", () => {
    expect(
      readError(
        { accessToken: jwt({ exp: NOW + 300 }), expires_in: 900 },
        { provider: { expiry: { accessToken: { expiresIn: "ttl" } } } },
      ).message,
    ).toBe(CANNOT_TELL);
  });

  it("a configured expiry that disagrees with exp wins, and each token's mismatch is warned about", () => {
    const { tokens, lines } = read(
      { accessToken: jwt({ exp: NOW + 300 }), refreshToken: jwt({ exp: NOW + 3600 }), ttl: 900 },
      {
        provider: {
          expiry: { accessToken: { expiresIn: "ttl" }, refreshToken: { lifetimeSeconds: 86400 } },
        },
      },
    );
    expect(tokens.accessTokenExpiresAt).toBe(NOW + 900);
    expect(tokens.refreshTokenExpiresAt).toBe(NOW + 86400);
    expect(lines).toEqual([
      'warn /auth/login response: the configured expiry.accessToken gives 900 s, the token\'s own "exp" 300 s; check the field\'s unit (expiresIn: { unit: "milliseconds" }?) or use "jwt"',
      'warn /auth/login response: the configured expiry.refreshToken gives 86400 s, the token\'s own "exp" 3600 s; check the field\'s unit (expiresIn: { unit: "milliseconds" }?) or use "jwt"',
    ]);
  });

  it("a disagreement of exactly the tolerance is not warned about, one second more is", () => {
    const lines = (expOffset: number) =>
      read(
        { accessToken: jwt({ exp: NOW + expOffset }) },
        { provider: { expiry: { accessToken: { lifetimeSeconds: 900 } } } },
      ).lines;
    expect(lines(900 + TOLERANCE)).toEqual([]);
    expect(lines(900 - TOLERANCE)).toEqual([]);
    expect(lines(900 + TOLERANCE + 1)).toEqual([
      `warn /auth/login response: the configured expiry.accessToken gives 900 s, the token's own "exp" ${900 + TOLERANCE + 1} s; check the field's unit (expiresIn: { unit: "milliseconds" }?) or use "jwt"`,
    ]);
  });

  it("a configured expiry that agrees with exp is silent", () => {
    const { lines } = read(
      { accessToken: jwt({ exp: NOW + 900 }), ttl: 900_000 },
      { provider: { expiry: { accessToken: { expiresIn: "ttl", unit: "milliseconds" } } } },
    );
    expect(lines).toEqual([]);
  });
});
