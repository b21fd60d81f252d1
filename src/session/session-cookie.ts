import type { AuthConfig } from "@auth/core";
import { getToken, type JWT } from "@auth/core/jwt";
import { parseCookie } from "cookie";
import { authSecrets } from "../lib/auth-secrets.js";
import type { BackendTokenState } from "../model/types.js";
import { sessionDecodeOf } from "./session-jwt.js";

/**
 * The one rule for the Auth.js session cookie: which cookie a request's session lives in, with
 * which secret it is sealed, how it is decoded and how a request's `Cookie` header is rewritten
 * after Auth.js re-issued it. Every reader of the session (the `getBackendAuth` helper, the
 * Next.js proxy, route handlers, `backend.fetch`, the login helpers) goes through this module, so
 * they agree with each other and with Auth.js's own `auth()`.
 */

/** Auth.js's default session cookie names (without and with the `__Secure-` prefix). */
const SESSION_COOKIE = "authjs.session-token";
const SECURE_SESSION_COOKIE = `__Secure-${SESSION_COOKIE}`;

/** The part of an Auth.js config that decides the session cookie. */
export type SessionCookieConfig = Pick<
  AuthConfig,
  "cookies" | "useSecureCookies" | "secret" | "jwt"
>;

/** A request as far as the session cookie is concerned. */
export interface SessionRequest {
  /** The URL the request was made to (as the server sees it); without it, http is assumed. */
  url?: string | URL | undefined;
  headers: Headers;
}

/** @internal The session cookie Auth.js reads and writes for a request. */
export interface SessionCookie {
  /** Cookie name (chunks are `name.0`, `name.1`, …). */
  name: string;
  /** Whether Auth.js uses its secure cookie set (`__Secure-` names, `Secure` attribute). */
  secure: boolean;
}

/**
 * @internal The protocol the browser used, as Auth.js decides it for `auth()` and its server
 * actions (`createActionURL`): the protocol of `AUTH_URL` (or `NEXTAUTH_URL`) when set, else the
 * first `X-Forwarded-Proto` value (Next.js sets it on every request; a TLS-terminating proxy in
 * front sets `https`), else the protocol of the request URL.
 */
function browserProtocol(request: SessionRequest): "http:" | "https:" {
  const envUrl = process.env.AUTH_URL ?? process.env.NEXTAUTH_URL;
  if (envUrl) {
    try {
      return new URL(envUrl).protocol === "https:" ? "https:" : "http:";
    } catch {
      // An unusable AUTH_URL: Auth.js fails on it elsewhere; fall back to the request.
    }
  }
  const forwarded = request.headers.get("x-forwarded-proto")?.split(",")[0]?.trim().toLowerCase();
  if (forwarded) return forwarded === "https" || forwarded === "https:" ? "https:" : "http:";
  return request.url !== undefined && new URL(request.url).protocol === "https:"
    ? "https:"
    : "http:";
}

/**
 * @internal Which session cookie a request uses, exactly as Auth.js decides it:
 * `config.cookies.sessionToken.name` when configured; else `__Secure-authjs.session-token` when
 * `config.useSecureCookies` (or, unset, when the browser used https: {@link browserProtocol}),
 * else `authjs.session-token`. A plain `authjs.session-token` on an https request is ignored,
 * as Auth.js ignores it: any http page of the same host could have planted it.
 */
export function sessionCookieFor(
  config: SessionCookieConfig,
  request: SessionRequest,
): SessionCookie {
  const secure = config.useSecureCookies ?? browserProtocol(request) === "https:";
  const name =
    config.cookies?.sessionToken?.name ?? (secure ? SECURE_SESSION_COOKIE : SESSION_COOKIE);
  return { name, secure };
}

/** Auth.js's logger, silenced: a cookie that does not decrypt is simply no session. */
const SILENT_LOGGER = { error: () => {}, warn: () => {}, debug: () => {} } as never;

/**
 * @internal Decodes the session JWT a request carries ({@link sessionCookieFor}, chunks
 * reassembled) with the config's `decode` (remembered per token: see session-jwt.ts); `null`
 * when absent, sealed with another secret, or tampered with.
 */
export function readSessionToken(
  config: SessionCookieConfig,
  request: SessionRequest,
): Promise<JWT | null> {
  return decodeSessionCookie(
    config,
    request.headers.get("cookie"),
    sessionCookieFor(config, request),
  );
}

/** @internal Decodes the session JWT from `cookie` in a `Cookie` header; `null` when unusable. */
export async function decodeSessionCookie(
  config: SessionCookieConfig,
  cookieHeader: string | null,
  cookie: SessionCookie,
): Promise<JWT | null> {
  if (!cookieHeader) return null;
  const secret = authSecrets(config);
  if (secret.length === 0) return null;
  try {
    return await getToken({
      req: { headers: new Headers({ cookie: cookieHeader }) },
      secret,
      secureCookie: cookie.secure,
      cookieName: cookie.name,
      logger: SILENT_LOGGER,
      decode: sessionDecodeOf(config),
    });
  } catch {
    return null;
  }
}

/** @internal The backend state of a decoded session token. */
export function stateOf(token: JWT | null): BackendTokenState | undefined {
  return token?.backend;
}

/** @internal Is `name` the session cookie or one of its chunks (`name.0`, `name.1`, …)? */
function isSessionCookie(name: string, sessionName: string): boolean {
  if (name === sessionName) return true;
  return name.startsWith(`${sessionName}.`) && CHUNK_INDEX.test(name.slice(sessionName.length + 1));
}

const CHUNK_INDEX = /^\d+$/;

/**
 * @internal A request `Cookie` header with every session cookie (and chunk) replaced by what the
 * `Set-Cookie` headers say, so code later in the same request reads the new session.
 */
export function replaceSessionCookies(
  cookieHeader: string,
  setCookies: readonly string[],
  sessionName: string,
): string {
  const changes = setCookies.flatMap((header) => {
    const pair = header.split(";", 1)[0] ?? "";
    const eq = pair.indexOf("=");
    const name = pair.slice(0, eq).trim();
    // A line without "name=" sets nothing.
    if (eq < 1 || !isSessionCookie(name, sessionName)) return [];
    const expired = /;\s*max-age=0\b/i.test(header) || /;\s*expires=Thu, 01 Jan 1970/i.test(header);
    return [{ name, value: expired ? "" : pair.slice(eq + 1).trim() }];
  });
  if (changes.length === 0) return cookieHeader;
  const kept = Object.entries(parseCookie(cookieHeader, { decode: (value) => value })).filter(
    ([name]) => !isSessionCookie(name, sessionName),
  );
  const updates = new Map<string, string>();
  for (const { name, value } of changes) {
    if (value === "") updates.delete(name);
    else updates.set(name, value);
  }
  return [...kept, ...updates]
    .filter((entry): entry is [string, string] => entry[1] !== undefined)
    .map(([name, value]) => `${name}=${value}`)
    .join("; ");
}

/** @internal The names of the session cookie and its chunks that a `Cookie` header carries. */
export function sessionCookieNames(cookieHeader: string, sessionName: string): string[] {
  return Object.keys(parseCookie(cookieHeader, { decode: (value) => value })).filter((name) =>
    isSessionCookie(name, sessionName),
  );
}
