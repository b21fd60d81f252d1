import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { BackendAuthError, safeCallbackPath } from "../src/index.js";
import { resolveOptions } from "../src/model/options.js";
import type { BackendResponse } from "../src/session/backend-http.js";
import { readSetCookies } from "../src/session/cookie-jar.js";
import { readTokenResponse } from "../src/session/token-response.js";

// Fixed seed so `npm test` is repeatable; FC_SEED / FC_RUNS explore further.
const numRuns = Number(process.env.FC_RUNS ?? 3000);
fc.configureGlobal({ seed: Number(process.env.FC_SEED ?? 20261123), numRuns });

const ORIGIN = "https://app.example.com";
const TOKEN_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const NOW = 1_800_000_000;
const BACKEND_URL = new URL("https://api.example.com/auth/login");

/** Characters that make cookie parsing interesting. */
const cookieChar = fc.constantFrom(
  ..."aZ09=;, \t\"\\%/._-~!#$&'()*+:<>?@[]^`{|}".split(""),
  "\u00e9",
  "\u2028",
  "\r",
  "\n",
  "\0",
);
const cookieText = fc.array(cookieChar, { maxLength: 40 }).map((chars) => chars.join(""));
const reservedName = fc
  .tuple(
    fc.constantFrom("authjs.", "__Secure-authjs.", "__Host-authjs.", "next-auth.", "AUTHJS."),
    fc.stringMatching(/^[a-z.-]{0,12}$/),
  )
  .map(([prefix, rest]) => prefix + rest);
const setCookieHeader = fc
  .tuple(
    fc.oneof(cookieText, reservedName, fc.stringMatching(/^[a-z_]{1,10}$/)),
    cookieText,
    fc.array(
      fc.oneof(
        fc.constant("Domain=evil.example"),
        fc.constant("Path=/"),
        fc.constant("HttpOnly"),
        fc.constant("Secure"),
        fc.constant("SameSite=None"),
        fc.integer({ min: -5, max: 100_000 }).map((n) => `Max-Age=${n}`),
        fc.constant("Expires=Wed, 21 Oct 2015 07:28:00 GMT"),
        cookieText,
      ),
      { maxLength: 5 },
    ),
  )
  .map(([name, value, attributes]) => [`${name}=${value}`, ...attributes].join("; "));

function headersWith(setCookies: string[]): Headers | undefined {
  const headers = new Headers();
  try {
    for (const value of setCookies) headers.append("set-cookie", value);
  } catch {
    return undefined; // the HTTP layer itself refuses CR/LF/NUL in header values
  }
  return headers;
}

describe("property: backend Set-Cookie handling", () => {
  it(`never throws, never stores CR/LF/';', an Auth.js cookie name or a Domain (${numRuns} runs)`, () => {
    fc.assert(
      fc.property(fc.array(setCookieHeader, { maxLength: 6 }), (setCookies) => {
        const headers = headersWith(setCookies);
        if (!headers) return;
        const changes = readSetCookies(headers, BACKEND_URL, NOW);
        for (const cookie of changes.set) {
          expect(cookie.name).toMatch(TOKEN_NAME);
          expect(cookie.name.toLowerCase()).not.toMatch(
            /^(__secure-|__host-)?(authjs|next-auth)\./,
          );
          expect(cookie.value).not.toMatch(/[\r\n;\s\\,]/);
          expect(cookie).not.toHaveProperty("domain");
          expect(cookie.path?.startsWith("/")).toBe(true);
        }
        for (const { name } of changes.rejected) expect(name).not.toMatch(/[\r\n]/);
      }),
    );
  });

  it("keeps values byte-exact (no decoding) for valid cookies", () => {
    fc.assert(
      fc.property(
        fc.stringMatching(/^[a-z]{1,8}$/),
        fc.stringMatching(/^[A-Za-z0-9%._~+/=-]{0,40}$/),
        (name, value) => {
          const changes = readSetCookies(
            headersWith([`${name}=${value}; Path=/`])!,
            BACKEND_URL,
            NOW,
          );
          expect(changes.set).toEqual([{ name, value, path: "/" }]);
        },
      ),
    );
  });
});

describe("property: token and expiry extraction from arbitrary JSON", () => {
  const options = resolveOptions({ baseUrl: "https://api.example.com" });
  const response = (body: unknown, date?: string): BackendResponse => ({
    status: 200,
    headers: new Headers(date ? { date } : {}),
    body,
    url: BACKEND_URL,
  });
  const expiryValue = fc.oneof(
    fc.integer({ min: -10, max: 10 ** 13 }),
    fc.double(),
    fc.string({ maxLength: 12 }),
    fc.constant(null),
  );
  const tokenish = fc.record(
    {
      accessToken: fc.oneof(fc.string({ maxLength: 30 }), fc.integer(), fc.constant(null)),
      access_token: fc.string({ maxLength: 30 }),
      refreshToken: fc.oneof(fc.string({ maxLength: 30 }), fc.constant(undefined)),
      expiresIn: expiryValue,
      expires_at: expiryValue,
      refreshExpiresIn: expiryValue,
      data: fc.jsonValue({ maxDepth: 2 }),
    },
    { requiredKeys: [] },
  );

  it(`returns a finite expiry or throws BackendResponseInvalid, nothing else (${numRuns} runs)`, () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.jsonValue({ maxDepth: 3 }), tokenish),
        fc.option(fc.date()),
        (body, date) => {
          const dateHeader = date && !Number.isNaN(date.getTime()) ? date.toUTCString() : undefined;
          try {
            const tokens = readTokenResponse(
              options,
              response(body, dateHeader),
              NOW,
              new Set(),
              () => {},
            );
            expect(Number.isFinite(tokens.accessTokenExpiresAt)).toBe(true);
            expect(typeof tokens.accessToken).toBe("string");
            if (tokens.refreshTokenExpiresAt !== undefined) {
              expect(Number.isFinite(tokens.refreshTokenExpiresAt)).toBe(true);
            }
          } catch (error) {
            expect(error).toBeInstanceOf(BackendAuthError);
            expect((error as BackendAuthError).code).toBe("BackendResponseInvalid");
            // Messages name the missing piece, never a value from the body.
            const leaked = (body as { accessToken?: unknown } | null)?.accessToken;
            if (typeof leaked === "string" && leaked.length >= 8) {
              expect((error as Error).message).not.toContain(leaked);
            }
          }
        },
      ),
    );
  });

  it("reads expires_in as seconds from now and expires_at in seconds or milliseconds", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 10 ** 7 }), fc.boolean(), (seconds, asMs) => {
        const relative = readTokenResponse(
          options,
          response({ accessToken: "opaque", expiresIn: seconds }),
          NOW,
          new Set(),
          () => {},
        );
        expect(relative.accessTokenExpiresAt).toBe(NOW + seconds);
        const at = NOW + seconds;
        const absolute = readTokenResponse(
          options,
          response({ accessToken: "opaque", expires_at: asMs ? at * 1000 : at }),
          NOW,
          new Set(),
          () => {},
        );
        expect(absolute.accessTokenExpiresAt).toBe(at);
      }),
    );
  });
});

describe("property: callbackUrl validation", () => {
  const hostile = fc.oneof(
    fc.string({ maxLength: 60 }),
    fc.webUrl(),
    fc
      .tuple(
        fc.constantFrom(
          "//",
          "/\\",
          "\\\\",
          "/\t/",
          "https:",
          "http:",
          "javascript:",
          "data:",
          " //",
          "/%2F",
          "///",
          "https://app.example.com@",
          "\\/",
        ),
        fc.constantFrom(
          "evil.example",
          "evil.example/path",
          "alert(1)",
          "app.example.com.evil.example",
        ),
      )
      .map(([prefix, rest]) => prefix + rest),
  );

  it(`always yields a same-origin path (${numRuns} runs)`, () => {
    fc.assert(
      fc.property(hostile, (value) => {
        const path = safeCallbackPath(value, ORIGIN);
        expect(path.startsWith("/")).toBe(true);
        expect(path).not.toMatch(/^\/[/\\]/);
        expect(new URL(path, ORIGIN).origin).toBe(ORIGIN);
      }),
    );
  });

  it("keeps genuine same-origin paths", () => {
    fc.assert(
      fc.property(fc.stringMatching(/^\/[a-z0-9/_-]{0,30}(\?[a-z=&0-9]{0,20})?$/), (path) => {
        fc.pre(!/^\/[/\\]/.test(path));
        expect(safeCallbackPath(path, ORIGIN)).toBe(
          new URL(path, ORIGIN).pathname + new URL(path, ORIGIN).search,
        );
      }),
    );
  });
});
