/**
 * The backend cookie jar (src/session/cookie-jar.ts), function by function: how a response's
 * `Set-Cookie` headers are read and validated (names, values, paths, expiry, size, reserved
 * Auth.js names), how changes are applied to a jar, which cookies a request carries (RFC 6265
 * path matching, longest path first) and which value of a name a request sees first. Pure
 * functions on a fixed clock: every test runs in microseconds.
 */
import { describe, expect, it } from "vitest";
import type { StoredCookie } from "../src/model/types.js";
import {
  applyCookieChanges,
  cookieHeaderFor,
  isReservedCookieName,
  jarValue,
  readSetCookies,
} from "../src/session/cookie-jar.js";

/** "Now" of every test, in seconds since the epoch. */
const NOW = 1_800_000_000;
const LOGIN_URL = "http://127.0.0.1/auth/login";

/** The `Expires` attribute value for `seconds` since the epoch. */
const httpDate = (seconds: number) => new Date(seconds * 1000).toUTCString();

/** What a backend response with these `Set-Cookie` lines means for the jar, at {@link NOW}. */
function read(lines: string[], url = LOGIN_URL, reserved?: ReadonlySet<string>) {
  const headers = new Headers();
  for (const line of lines) headers.append("set-cookie", line);
  return readSetCookies(headers, new URL(url), NOW, reserved);
}

/** The cookies stored from one `Set-Cookie` line (the `set` part only). */
const storedFrom = (line: string, url = LOGIN_URL) => read([line], url).set;

/**
 * A `Headers` whose `getSetCookie()` returns lines verbatim, as a `Headers` implementation that
 * does not validate values could (the platform's refuses CR, LF and NUL before we see them).
 */
class UnvalidatedHeaders extends Headers {
  constructor(private readonly lines: string[]) {
    super();
  }
  override getSetCookie(): string[] {
    return this.lines;
  }
}

/** Whether a cookie stored under `cookiePath` is sent with a request to `requestPath`. */
function sentTo(cookiePath: string, requestPath: string): boolean {
  const jar = [{ name: "c", value: "1", path: cookiePath }];
  return cookieHeaderFor(jar, new URL(`http://127.0.0.1${requestPath}`), NOW) === "c=1";
}

describe("readSetCookies", () => {
  it("a response without Set-Cookie changes nothing", () => {
    expect(read([])).toStrictEqual({ set: [], deleted: [], rejected: [], oversized: [] });
  });

  it("a plain cookie is stored byte-exact (no percent-decoding, quotes kept) under the default path", () => {
    expect(read(["sid=a%20b", "raw=%zz", 'q="quoted"', "empty="])).toStrictEqual({
      set: [
        { name: "sid", value: "a%20b", path: "/auth" },
        { name: "raw", value: "%zz", path: "/auth" },
        { name: "q", value: '"quoted"', path: "/auth" },
        { name: "empty", value: "", path: "/auth" },
      ],
      deleted: [],
      rejected: [],
      oversized: [],
    });
  });

  it("HttpOnly, Secure and SameSite are kept; Domain is dropped", () => {
    expect(
      storedFrom("a=1; Domain=example.com; HttpOnly; Secure; SameSite=Strict; Path=/"),
    ).toStrictEqual([
      { name: "a", value: "1", path: "/", httpOnly: true, secure: true, sameSite: "strict" },
    ]);
  });

  it("SameSite Lax and None (any case) are kept, an unknown SameSite is dropped", () => {
    expect(storedFrom("a=1; Path=/; SameSite=LAX")).toStrictEqual([
      { name: "a", value: "1", path: "/", sameSite: "lax" },
    ]);
    expect(storedFrom("a=1; Path=/; SameSite=none")).toStrictEqual([
      { name: "a", value: "1", path: "/", sameSite: "none" },
    ]);
    expect(storedFrom("a=1; Path=/; SameSite=Bogus")).toStrictEqual([
      { name: "a", value: "1", path: "/" },
    ]);
  });

  it("without a Path the default path is the request path up to its last slash", () => {
    const pathFor = (url: string) => storedFrom("a=1", url)[0]?.path;
    expect(pathFor("http://127.0.0.1/login")).toBe("/");
    expect(pathFor("http://127.0.0.1/")).toBe("/");
    expect(pathFor("http://127.0.0.1/api/v1/login?next=/x/y")).toBe("/api/v1");
    expect(pathFor("http://127.0.0.1/api/")).toBe("/api");
  });

  it("an absolute printable Path is kept; a relative, empty or unprintable one falls back to the default path", () => {
    const pathOf = (attribute: string) => storedFrom(`a=1; ${attribute}`)[0]?.path;
    expect(pathOf("Path=/x")).toBe("/x");
    expect(pathOf("Path=/x/")).toBe("/x/");
    expect(pathOf("Path=/")).toBe("/");
    expect(pathOf("Path=x")).toBe("/auth");
    expect(pathOf("Path=x/")).toBe("/auth");
    expect(pathOf("Path=")).toBe("/auth");
    expect(pathOf("Path=/caf\u00e9")).toBe("/auth");
    expect(pathOf("Path=/a<b")).toBe("/auth");
  });

  it("Max-Age gives an expiry relative to now, and wins over Expires", () => {
    expect(storedFrom("a=1; Path=/; Max-Age=60")).toStrictEqual([
      { name: "a", value: "1", path: "/", expiresAt: NOW + 60 },
    ]);
    expect(storedFrom(`a=1; Path=/; Expires=${httpDate(NOW - 100)}; Max-Age=1`)).toStrictEqual([
      { name: "a", value: "1", path: "/", expiresAt: NOW + 1 },
    ]);
  });

  it("Expires gives the absolute expiry; an unparsable Max-Age or one too large for a number is ignored", () => {
    const expires = `Expires=${httpDate(NOW + 3600)}`;
    const expected = [{ name: "a", value: "1", path: "/", expiresAt: NOW + 3600 }];
    expect(storedFrom(`a=1; Path=/; ${expires}`)).toStrictEqual(expected);
    expect(storedFrom(`a=1; Path=/; Max-Age=soon; ${expires}`)).toStrictEqual(expected);
    expect(storedFrom(`a=1; Path=/; Max-Age=1${"0".repeat(400)}; ${expires}`)).toStrictEqual(
      expected,
    );
  });

  it("an unparsable Expires leaves a session cookie (no expiry)", () => {
    expect(storedFrom("a=1; Path=/; Expires=someday")).toStrictEqual([
      { name: "a", value: "1", path: "/" },
    ]);
  });

  it("an expiry at or before now deletes the cookie by name and path; one second later keeps it", () => {
    expect(
      read([
        "gone=; Max-Age=0; Path=/x",
        "negative=1; Max-Age=-5",
        `now=1; Path=/; Expires=${httpDate(NOW)}`,
        `past=1; Path=/; Expires=${httpDate(NOW - 1)}`,
        `soon=1; Path=/; Expires=${httpDate(NOW + 1)}`,
      ]),
    ).toStrictEqual({
      set: [{ name: "soon", value: "1", path: "/", expiresAt: NOW + 1 }],
      deleted: [
        { name: "gone", path: "/x" },
        { name: "negative", path: "/auth" },
        { name: "now", path: "/" },
        { name: "past", path: "/" },
      ],
      rejected: [],
      oversized: [],
    });
  });

  it("a cookie whose name plus value exceed 4096 bytes is flagged oversized but kept; exactly 4096 is not", () => {
    const atLimit = `big=${"v".repeat(4093)}`;
    const overLimit = `huge=${"v".repeat(4093)}`;
    const changes = read([atLimit, overLimit]);
    expect(changes.oversized).toStrictEqual(["huge"]);
    expect(changes.set.map((cookie) => [cookie.name, cookie.value.length])).toStrictEqual([
      ["big", 4093],
      ["huge", 4093],
    ]);
  });

  it("a line without a name is rejected as Malformed and the next line is still read", () => {
    expect(read(["novalue", "=v", "ok=1; Path=/"])).toStrictEqual({
      set: [{ name: "ok", value: "1", path: "/" }],
      deleted: [],
      rejected: [
        { name: "", reason: "Malformed" },
        { name: "", reason: "Malformed" },
      ],
      oversized: [],
    });
  });

  it("a line with CR, LF or NUL is rejected as Malformed (header injection)", () => {
    const headers = new UnvalidatedHeaders(["a=1\r\nSet-Cookie: b=2", "c=3\0", "d=4\n"]);
    expect(readSetCookies(headers, new URL(LOGIN_URL), NOW).rejected).toStrictEqual([
      { name: "", reason: "Malformed" },
      { name: "", reason: "Malformed" },
      { name: "", reason: "Malformed" },
    ]);
  });

  it("a name that is no HTTP token is rejected as InvalidName, reported only when printable and at most 64 characters", () => {
    const name64 = `a b${"c".repeat(61)}`;
    expect(
      read([
        "a b=1",
        '"=1',
        `${name64}=1`,
        `${name64}c=1`,
        "\u00e9a b=1",
        "a b\u007f=1",
        "authjs. x=1",
      ]).rejected,
    ).toStrictEqual([
      { name: "a b", reason: "InvalidName" },
      { name: '"', reason: "InvalidName" },
      { name: name64, reason: "InvalidName" },
      { name: "", reason: "InvalidName" },
      { name: "", reason: "InvalidName" },
      { name: "", reason: "InvalidName" },
      { name: "authjs. x", reason: "InvalidName" },
    ]);
  });

  it("Auth.js names and the caller's reserved names are rejected as ReservedName, before the value is checked", () => {
    const changes = read(
      ["authjs.session-token=x", "__Host-next-auth.csrf-token=a b", "app.session.0=x", "mine=1"],
      LOGIN_URL,
      new Set(["app.session"]),
    );
    expect(changes.rejected).toStrictEqual([
      { name: "authjs.session-token", reason: "ReservedName" },
      { name: "__Host-next-auth.csrf-token", reason: "ReservedName" },
      { name: "app.session.0", reason: "ReservedName" },
    ]);
    expect(changes.set).toStrictEqual([{ name: "mine", value: "1", path: "/auth" }]);
  });

  it("a value that is not cookie-octets (space, comma, backslash, stray quote) is rejected as InvalidValue", () => {
    expect(read(["a=x y", "b=x,y", "c=x\\y", 'd="open', 'e=x"y']).rejected).toStrictEqual([
      { name: "a", reason: "InvalidValue" },
      { name: "b", reason: "InvalidValue" },
      { name: "c", reason: "InvalidValue" },
      { name: "d", reason: "InvalidValue" },
      { name: "e", reason: "InvalidValue" },
    ]);
  });
});

describe("isReservedCookieName", () => {
  it("every Auth.js, next-auth and authjs-backend prefix is reserved, in any case", () => {
    for (const name of [
      "authjs.session-token",
      "AUTHJS.SESSION-TOKEN",
      "__Secure-authjs.session-token",
      "__secure-AUTHJS.callback-url",
      "__Host-authjs.csrf-token",
      "next-auth.session-token",
      "__Secure-next-auth.session-token",
      "__Host-next-auth.csrf-token",
      "authjs-backend.retried",
      "__Secure-authjs-backend.retried",
      "__Host-authjs-backend.x",
    ]) {
      expect(isReservedCookieName(name), name).toBe(true);
    }
  });

  it("names that only contain or end with a prefix are not reserved", () => {
    for (const name of ["authjs", "xauthjs.session-token", "my.authjs.", "refresh_token"]) {
      expect(isReservedCookieName(name), name).toBe(false);
    }
  });

  it("a custom name is reserved with its numeric chunks, not with other suffixes", () => {
    const custom = new Set(["app.session"]);
    const reserved = (name: string) => isReservedCookieName(name, custom);
    expect(reserved("app.session")).toBe(true);
    expect(reserved("app.session.0")).toBe(true);
    expect(reserved("app.session.12")).toBe(true);
    expect(reserved("app.sessions")).toBe(false);
    expect(reserved("app.session.x")).toBe(false);
    expect(reserved("app.session.1x")).toBe(false);
    expect(reserved("app.sessionx1")).toBe(false);
  });

  it("a chunk suffix counts only at the end of the name", () => {
    expect(isReservedCookieName("a.1b", new Set(["ab"]))).toBe(false);
  });
});

describe("applyCookieChanges", () => {
  const cookie = (name: string, value: string, path?: string): StoredCookie =>
    path === undefined ? { name, value } : { name, value, path };

  it("a set cookie replaces the one of the same name and path, others stay, new ones come last", () => {
    const jar = [cookie("a", "1", "/"), cookie("b", "1", "/"), cookie("a", "1", "/x")];
    const before = structuredClone(jar);
    const result = applyCookieChanges(jar, { set: [cookie("a", "2", "/")], deleted: [] }, NOW);
    expect(result).toStrictEqual([
      cookie("b", "1", "/"),
      cookie("a", "1", "/x"),
      cookie("a", "2", "/"),
    ]);
    expect(jar).toStrictEqual(before);
  });

  it("a deletion removes only the cookie of that name and path", () => {
    const jar = [cookie("a", "1", "/"), cookie("a", "1", "/x"), cookie("b", "1", "/")];
    expect(
      applyCookieChanges(jar, { set: [], deleted: [{ name: "a", path: "/x" }] }, NOW),
    ).toStrictEqual([cookie("a", "1", "/"), cookie("b", "1", "/")]);
  });

  it("a cookie without a path is the same as one on /", () => {
    expect(
      applyCookieChanges([cookie("a", "1")], { set: [cookie("a", "2", "/")], deleted: [] }, NOW),
    ).toStrictEqual([cookie("a", "2", "/")]);
    expect(
      applyCookieChanges([cookie("a", "1", "/")], { set: [cookie("a", "2")], deleted: [] }, NOW),
    ).toStrictEqual([cookie("a", "2")]);
  });

  it("jar cookies expired at or before now are dropped, later and session cookies stay", () => {
    const jar: StoredCookie[] = [
      { name: "expired", value: "1", path: "/", expiresAt: NOW },
      { name: "valid", value: "1", path: "/", expiresAt: NOW + 1 },
      { name: "session", value: "1", path: "/" },
    ];
    const result = applyCookieChanges(jar, { set: [], deleted: [] }, NOW);
    expect(result).toStrictEqual(jar.slice(1));
    expect(result).not.toBe(jar);
  });
});

describe("cookieHeaderFor", () => {
  it("no cookie for the request: no Cookie header", () => {
    const url = new URL("http://127.0.0.1/api");
    expect(cookieHeaderFor([], url, NOW)).toBeUndefined();
    expect(
      cookieHeaderFor([{ name: "a", value: "1", path: "/api", expiresAt: NOW }], url, NOW),
    ).toBeUndefined();
    expect(cookieHeaderFor([{ name: "a", value: "1", path: "/other" }], url, NOW)).toBeUndefined();
  });

  it("matching cookies are joined longest path first, equal paths in jar order", () => {
    const url = new URL("http://127.0.0.1/api/v1/users");
    const shortFirst: StoredCookie[] = [
      { name: "root", value: "r" },
      { name: "api", value: "a", path: "/api" },
      { name: "v1", value: "v", path: "/api/v1" },
      { name: "second", value: "s", path: "/" },
    ];
    expect(cookieHeaderFor(shortFirst, url, NOW)).toBe("v1=v; api=a; root=r; second=s");
    const longFirst = [shortFirst[2]!, shortFirst[1]!, shortFirst[0]!, shortFirst[3]!];
    expect(cookieHeaderFor(longFirst, url, NOW)).toBe("v1=v; api=a; root=r; second=s");
  });

  it("a cookie expiring exactly now is not sent, one expiring a second later is", () => {
    const jar: StoredCookie[] = [
      { name: "old", value: "1", path: "/", expiresAt: NOW },
      { name: "new", value: "2", path: "/", expiresAt: NOW + 1 },
    ];
    expect(cookieHeaderFor(jar, new URL("http://127.0.0.1/"), NOW)).toBe("new=2");
  });

  it("path matching follows RFC 6265: same path, or a prefix ending at a slash", () => {
    expect(sentTo("/", "/anything/below")).toBe(true);
    expect(sentTo("/a", "/a")).toBe(true);
    expect(sentTo("/a", "/a/b")).toBe(true);
    expect(sentTo("/a/", "/a/b")).toBe(true);
    expect(sentTo("/a", "/ab")).toBe(false);
    expect(sentTo("/a/", "/a")).toBe(false);
    expect(sentTo("/a/", "/b/x")).toBe(false);
    expect(sentTo("/a/", "/b/a/")).toBe(false);
    expect(sentTo("/a", "/b")).toBe(false);
  });
});

describe("jarValue", () => {
  it("no unexpired cookie of that name: undefined", () => {
    expect(jarValue([], "sid", NOW)).toBeUndefined();
    expect(jarValue([{ name: "other", value: "1", path: "/" }], "sid", NOW)).toBeUndefined();
  });

  it("other names and expired cookies are skipped", () => {
    const jar: StoredCookie[] = [
      { name: "other", value: "other", path: "/long/path" },
      { name: "sid", value: "live", path: "/" },
      { name: "sid", value: "expired", path: "/", expiresAt: NOW },
      { name: "sid", value: "expired-longer", path: "/long", expiresAt: NOW - 10 },
    ];
    expect(jarValue(jar, "sid", NOW)).toBe("live");
  });

  it("the longest path wins whatever the order; on equal paths the newest (last) wins", () => {
    const api = { name: "sid", value: "api", path: "/api" };
    const root = { name: "sid", value: "root", path: "/" };
    expect(jarValue([api, root], "sid", NOW)).toBe("api");
    expect(jarValue([root, api], "sid", NOW)).toBe("api");
    expect(jarValue([root, { ...root, value: "newer" }], "sid", NOW)).toBe("newer");
  });

  it("a cookie without a path counts as one on /", () => {
    const pathless = { name: "sid", value: "pathless" };
    const root = { name: "sid", value: "root", path: "/" };
    expect(jarValue([pathless, root], "sid", NOW)).toBe("root");
    expect(jarValue([root, pathless], "sid", NOW)).toBe("pathless");
    expect(jarValue([pathless], "sid", NOW, new URL("http://127.0.0.1/x"))).toBe("pathless");
  });

  it("with a URL only cookies whose path matches it count", () => {
    const jar = [
      { name: "sid", value: "api", path: "/api" },
      { name: "sid", value: "root", path: "/" },
    ];
    expect(jarValue(jar, "sid", NOW, new URL("http://127.0.0.1/other"))).toBe("root");
    expect(jarValue(jar, "sid", NOW, new URL("http://127.0.0.1/api/x"))).toBe("api");
    expect(jarValue(jar.slice(0, 1), "sid", NOW, new URL("http://127.0.0.1/"))).toBeUndefined();
  });
});
