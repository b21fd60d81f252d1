import { parseSetCookie } from "cookie";
import type { StoredCookie } from "../model/types.js";

/** Browsers drop a cookie whose name plus value exceed this many bytes (RFC 6265bis). */
const MAX_COOKIE_BYTES = 4096;

/** Cookie names (prefixes) that belong to Auth.js / next-auth; the backend may never set them. */
const RESERVED_PREFIXES = [
  "authjs.",
  "__Secure-authjs.",
  "__Host-authjs.",
  "next-auth.",
  "__Secure-next-auth.",
  "__Host-next-auth.",
  // This package's own cookies (the refresh route's marker, and any it adds later).
  "authjs-backend.",
  "__Secure-authjs-backend.",
  "__Host-authjs-backend.",
];

// RFC 6265 §4.1.1: cookie-name is an HTTP token; cookie-value is cookie-octets, optionally quoted.
const COOKIE_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const COOKIE_VALUE =
  /^(?:"[\x21\x23-\x2B\x2D-\x3A\x3C-\x5B\x5D-\x7E]*"|[\x21\x23-\x2B\x2D-\x3A\x3C-\x5B\x5D-\x7E]*)$/;
// What `cookie` accepts when serialising a Path (printable ASCII except ";" and "<").
const COOKIE_PATH = /^[\u0020-\u003A\u003D-\u007E]*$/;
const identity = (value: string) => value;

/** Why a backend `Set-Cookie` was not taken into the jar. */
type CookieRejection = "InvalidName" | "InvalidValue" | "ReservedName" | "Malformed";

/** @internal What one response's `Set-Cookie` headers mean for the jar. */
export interface CookieChanges {
  /** Cookies to store or replace. */
  set: StoredCookie[];
  /** Cookies the backend deleted (Max-Age=0 or a past Expires): `name` + `path`. */
  deleted: Array<{ name: string; path: string }>;
  /** Cookies refused, by name (a name is only reported when it is itself printable). */
  rejected: Array<{ name: string; reason: CookieRejection }>;
  /** Cookies whose name plus value exceed {@link MAX_COOKIE_BYTES} (kept, but a browser would drop them). */
  oversized: string[];
}

/**
 * @internal Reads every `Set-Cookie` of a backend response (via `Headers.getSetCookie()`, which
 * keeps commas inside `Expires` intact) and validates it. `Domain` is dropped: the cookie belongs
 * to the session, not to a host. Values are kept byte-exact.
 */
export function readSetCookies(
  headers: Headers,
  requestUrl: URL,
  nowSeconds: number,
  reservedNames: ReadonlySet<string> = new Set(),
): CookieChanges {
  const changes: CookieChanges = { set: [], deleted: [], rejected: [], oversized: [] };
  for (const header of headers.getSetCookie()) {
    const parsed = parseOne(header);
    if (!parsed) {
      changes.rejected.push({ name: "", reason: "Malformed" });
      continue;
    }
    const { name, value = "" } = parsed;
    if (!COOKIE_NAME.test(name)) {
      changes.rejected.push({ name: printable(name), reason: "InvalidName" });
      continue;
    }
    if (isReservedCookieName(name, reservedNames)) {
      changes.rejected.push({ name, reason: "ReservedName" });
      continue;
    }
    if (!COOKIE_VALUE.test(value)) {
      changes.rejected.push({ name, reason: "InvalidValue" });
      continue;
    }
    // A path that is not printable ASCII (cannot be written back as a cookie) is ignored, as a
    // browser ignores an invalid Path, and the default path applies.
    const path =
      parsed.path?.startsWith("/") && COOKIE_PATH.test(parsed.path)
        ? parsed.path
        : defaultPath(requestUrl);
    const expiresAt = cookieExpiry(parsed.maxAge, parsed.expires, nowSeconds);
    if (expiresAt !== undefined && expiresAt <= nowSeconds) {
      changes.deleted.push({ name, path });
      continue;
    }
    if (byteLength(name) + byteLength(value) > MAX_COOKIE_BYTES) changes.oversized.push(name);
    const cookie: StoredCookie = { name, value, path };
    if (expiresAt !== undefined) cookie.expiresAt = expiresAt;
    if (parsed.httpOnly) cookie.httpOnly = true;
    if (parsed.secure) cookie.secure = true;
    const sameSite = normaliseSameSite(parsed.sameSite);
    if (sameSite) cookie.sameSite = sameSite;
    changes.set.push(cookie);
  }
  return changes;
}

/** `true` for names Auth.js uses for its own cookies (and any name in `extra`). */
export function isReservedCookieName(
  name: string,
  extra: ReadonlySet<string> = new Set(),
): boolean {
  // A custom Auth.js cookie name is reserved with its chunks (`name.0`, `name.1`, …).
  if (extra.has(name) || extra.has(name.replace(/\.\d+$/, ""))) return true;
  const lower = name.toLowerCase();
  return RESERVED_PREFIXES.some((prefix) => lower.startsWith(prefix.toLowerCase()));
}

/** @internal Applies changes to a jar, dropping expired cookies. Returns a new array. */
export function applyCookieChanges(
  jar: readonly StoredCookie[],
  changes: Pick<CookieChanges, "set" | "deleted">,
  nowSeconds: number,
): StoredCookie[] {
  const replaced = new Set(
    [...changes.set, ...changes.deleted].map((cookie) => `${cookie.name}\0${cookie.path ?? "/"}`),
  );
  return [
    ...jar.filter(
      (cookie) =>
        !replaced.has(`${cookie.name}\0${cookie.path ?? "/"}`) && !isExpired(cookie, nowSeconds),
    ),
    ...changes.set,
  ];
}

/**
 * @internal The `Cookie` request header for `url`: every unexpired jar cookie whose path matches
 * (RFC 6265 §5.1.4), longest path first. `undefined` when none applies.
 */
export function cookieHeaderFor(
  jar: readonly StoredCookie[],
  url: URL,
  nowSeconds: number,
): string | undefined {
  const matching = jar
    .filter(
      (cookie) => !isExpired(cookie, nowSeconds) && pathMatches(url.pathname, cookie.path ?? "/"),
    )
    .sort((a, b) => (b.path ?? "/").length - (a.path ?? "/").length);
  if (matching.length === 0) return undefined;
  return matching.map((cookie) => `${cookie.name}=${cookie.value}`).join("; ");
}

/**
 * @internal The value of the jar cookie `name` that a request to `url` would carry first: paths
 * matching `url` (any path when no `url`), longest path first, then the most recently stored.
 */
export function jarValue(
  jar: readonly StoredCookie[],
  name: string,
  nowSeconds: number,
  url?: URL,
): string | undefined {
  let best: StoredCookie | undefined;
  for (const cookie of jar) {
    if (cookie.name !== name || isExpired(cookie, nowSeconds)) continue;
    if (url && !pathMatches(url.pathname, cookie.path ?? "/")) continue;
    // Later entries are newer (applyCookieChanges appends), so ">=" keeps the newest on ties.
    if (!best || (cookie.path ?? "/").length >= (best.path ?? "/").length) best = cookie;
  }
  return best?.value;
}

function parseOne(header: string): ReturnType<typeof parseSetCookie> | undefined {
  if (/[\r\n\0]/.test(header)) return undefined;
  try {
    const parsed = parseSetCookie(header, { decode: identity });
    return parsed.name ? parsed : undefined;
  } catch {
    return undefined;
  }
}

function cookieExpiry(
  maxAge: number | undefined,
  expires: Date | undefined,
  nowSeconds: number,
): number | undefined {
  // RFC 6265 §5.3: Max-Age wins over Expires.
  if (maxAge !== undefined && Number.isFinite(maxAge)) return nowSeconds + Math.trunc(maxAge);
  if (expires !== undefined) {
    const time = expires.getTime();
    if (Number.isFinite(time)) return Math.floor(time / 1000);
  }
  return undefined;
}

function normaliseSameSite(value: unknown): StoredCookie["sameSite"] {
  if (value === true || value === "strict") return "strict";
  if (value === "lax" || value === "none") return value;
  return undefined;
}

// RFC 6265 §5.1.4 default-path: the request path up to, not including, its last "/".
function defaultPath(url: URL): string {
  const path = url.pathname;
  const last = path.lastIndexOf("/");
  return last <= 0 ? "/" : path.slice(0, last);
}

function pathMatches(requestPath: string, cookiePath: string): boolean {
  if (requestPath === cookiePath) return true;
  if (!requestPath.startsWith(cookiePath)) return false;
  return cookiePath.endsWith("/") || requestPath.charAt(cookiePath.length) === "/";
}

function isExpired(cookie: StoredCookie, nowSeconds: number): boolean {
  return cookie.expiresAt !== undefined && cookie.expiresAt <= nowSeconds;
}

function byteLength(text: string): number {
  return new TextEncoder().encode(text).length;
}

function printable(name: string): string {
  return /^[\x20-\x7E]{1,64}$/.test(name) ? name : "";
}
