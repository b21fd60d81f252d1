import { Auth, type AuthConfig, setEnvDefaults } from "@auth/core";
import { getToken, type JWT } from "@auth/core/jwt";
import { parseCookie } from "cookie";
import { cookies } from "next/headers";
import { runtimeFor, runtimeOf } from "../lib/runtime.js";
import type { BackendTokenState } from "../types.js";
import { type WithBackendOptions, withBackend } from "../with-backend.js";
import { mirroredNames } from "./mirror.js";

/** Header the proxy sets on the request so server code knows the page being rendered. */
export const PATH_HEADER = "x-authjs-backend-path";

/** Options of {@link nextBackend}, shared by the proxy, fetch wrapper, routes and login helpers. */
export interface NextBackendOptions {
  /** Sign-in page path. @default config.pages.signIn, else `${basePath}/signin` */
  signInPath?: string;
  /** Path of the route handler that refreshes and redirects back (`backend.refreshRoute`). @default "/api/auth/refresh" */
  refreshPath?: string;
  /** Path of the route handler that ends an expired session (`backend.expiredRoute`). @default "/api/auth/expired" */
  expiredPath?: string;
  /**
   * Copy backend cookies to the browser (`HttpOnly`, `Secure` on https, `SameSite` at least `Lax`,
   * no `Domain`) so the browser can call a same-site backend directly: `true` for all, or a list of
   * names. The refresh-token cookie is never copied (the browser could rotate it behind our back).
   * Copies follow the session where this layer writes it (proxy, refresh route): a cookie the
   * backend deletes, or every copy when the session ends, is deleted in the browser too. The
   * expired route deletes the copies it can name: list the names (rather than `true`) so it can
   * also delete copies of a session that ended elsewhere (e.g. through `useSession().update()`).
   * next-auth's `signOut()` (server action or `/api/auth/signout`) deletes the copies too, through
   * the sign-out event.
   * @default false
   */
  mirrorBackendCookies?: boolean | readonly string[];
}

/** @internal Everything the Next.js helpers share: resolved configs per context and paths. */
export interface NextContext {
  /** Config for contexts that can write cookies (proxy, route handlers). */
  writable(): AuthConfig & { basePath: string };
  /** Config that never rotates (Server Components, and server actions through `auth()`). */
  readOnly(): AuthConfig & { basePath: string };
  /** Config that refreshes unconditionally (the refresh route after a 401). */
  forced(): AuthConfig & { basePath: string };
  options: Required<Omit<NextBackendOptions, "mirrorBackendCookies">> & {
    mirrorBackendCookies: NextBackendOptions["mirrorBackendCookies"];
  };
}

/** @internal */
export function createNextContext(config: AuthConfig, options: NextBackendOptions): NextContext {
  if (!config.providers.some((provider) => runtimeOf(provider))) {
    throw new TypeError("nextBackend: config.providers contains no BackendCredentials provider");
  }
  const variants = new Map<WithBackendOptions["refresh"], AuthConfig & { basePath: string }>();
  const variant = (refresh: WithBackendOptions["refresh"]) => {
    let resolved = variants.get(refresh);
    if (!resolved) {
      resolved = withEnvDefaults(withMirrorCleanup(withBackend(config, { refresh }), context));
      variants.set(refresh, resolved);
    }
    return resolved;
  };
  const basePath = () => variant("auto").basePath;
  for (const name of ["signInPath", "refreshPath", "expiredPath"] as const) {
    const value = options[name];
    if (value !== undefined && (typeof value !== "string" || !value.startsWith("/"))) {
      throw new TypeError(`nextBackend: option ${name} must be a path starting with "/"`);
    }
  }
  const context: NextContext = {
    writable: () => variant("auto"),
    readOnly: () => variant("never"),
    forced: () => variant("force"),
    options: {
      get signInPath() {
        return options.signInPath ?? config.pages?.signIn ?? `${basePath()}/signin`;
      },
      refreshPath: options.refreshPath ?? "/api/auth/refresh",
      expiredPath: options.expiredPath ?? "/api/auth/expired",
      mirrorBackendCookies: options.mirrorBackendCookies,
    },
  };
  return context;
}

/**
 * Adds to the sign-out event the deletion of the backend cookies mirrored to the browser: next-auth's
 * `signOut()` only deletes Auth.js's own cookies. It runs where next-auth signs out (a server action
 * or the sign-out route handler), both of which may write cookies through `cookies()`.
 */
function withMirrorCleanup(config: AuthConfig, context: NextContext): AuthConfig {
  if (!context.options.mirrorBackendCookies) return config;
  const signOut = config.events?.signOut;
  return {
    ...config,
    events: {
      ...config.events,
      async signOut(message) {
        await signOut?.(message);
        const state = "token" in message ? message.token?.backend : undefined;
        const runtime = state && runtimeFor(config.providers, state.provider);
        if (!state || !runtime) return;
        const names = mirroredNames(context, runtime, state);
        if (names.size === 0) return;
        try {
          const jar = await cookies();
          for (const name of names) {
            const path = state.cookies.find((cookie) => cookie.name === name)?.path ?? "/";
            jar.set(name, "", { path, maxAge: 0, expires: new Date(0) });
          }
        } catch {
          // Not in a Next.js request that can write cookies (e.g. Auth() called directly).
        }
      },
    },
  };
}

/** next-auth's defaults: secret from AUTH_SECRET, basePath from AUTH_URL or `/api/auth`. */
function withEnvDefaults(config: AuthConfig): AuthConfig & { basePath: string } {
  const resolved = { ...config };
  resolved.secret ??= process.env.AUTH_SECRET ?? process.env.NEXTAUTH_SECRET;
  if (!resolved.basePath) {
    const url = process.env.AUTH_URL ?? process.env.NEXTAUTH_URL;
    let path: string | undefined;
    try {
      path = url ? new URL(url).pathname : undefined;
    } catch {
      path = undefined;
    }
    resolved.basePath = path && path !== "/" ? path : "/api/auth";
  }
  setEnvDefaults(process.env, resolved, true);
  return resolved as AuthConfig & { basePath: string };
}

/** Auth.js's default session cookie names (without and with the `__Secure-` prefix). */
const SESSION_COOKIE = "authjs.session-token";
const SECURE_SESSION_COOKIE = `__Secure-${SESSION_COOKIE}`;

/** @internal The session cookie Auth.js reads and writes for a request. */
export interface SessionCookie {
  /** Cookie name (chunks are `name.0`, `name.1`, …). */
  name: string;
  /** Whether Auth.js uses its secure cookie set (`__Secure-` names, `Secure` attribute). */
  secure: boolean;
}

/**
 * @internal Which session cookie to use for a request: `config.cookies.sessionToken.name` when
 * configured; else `__Secure-authjs.session-token` or `authjs.session-token` by
 * `config.useSecureCookies` when set; else by the cookie the request actually carries (the
 * `__Secure-` one or its chunks → secure, the plain one → plain), and only when it carries neither
 * by the protocol of `url`. Behind TLS termination the proxy, route handlers and Server Components
 * may each see a different protocol; the carried cookie is what the browser was given, so every
 * helper (reading, rewriting, refreshing, deleting) agrees on it.
 */
export function sessionCookieFor(
  config: AuthConfig,
  url: URL,
  cookieHeader: string | null,
): SessionCookie {
  let secure = config.useSecureCookies;
  if (secure === undefined) {
    const names = cookieHeader ? Object.keys(parseCookie(cookieHeader, { decode: (v) => v })) : [];
    if (names.some((name) => isSessionCookie(name, SECURE_SESSION_COOKIE))) secure = true;
    else if (names.some((name) => isSessionCookie(name, SESSION_COOKIE))) secure = false;
    else secure = url.protocol === "https:";
  }
  const name =
    config.cookies?.sessionToken?.name ?? (secure ? SECURE_SESSION_COOKIE : SESSION_COOKIE);
  return { name, secure };
}

/** @internal Decodes the session JWT from a cookie header; `null` when absent or invalid. */
export async function readSessionToken(
  config: AuthConfig,
  url: URL,
  cookieHeader: string | null,
): Promise<JWT | null> {
  if (!cookieHeader) return null;
  const cookie = sessionCookieFor(config, url, cookieHeader);
  try {
    return await getToken({
      req: { headers: new Headers({ cookie: cookieHeader }) },
      secret: config.secret,
      secureCookie: cookie.secure,
      cookieName: cookie.name,
      logger: { error: () => {}, warn: () => {}, debug: () => {} } as never,
    });
  } catch {
    return null;
  }
}

/**
 * @internal Runs Auth.js's own session action (`GET {basePath}/session`) for a cookie header,
 * so the `jwt` callback refreshes and Auth.js encodes and chunks the new session cookie itself.
 * Returns the `Set-Cookie` headers and the new session token.
 *
 * Auth.js picks its cookie names from the protocol of the URL it is given (unless configured), so
 * the internal URL gets the protocol of the session cookie the request carries
 * ({@link sessionCookieFor}): `https:` for the `__Secure-` cookie, `http:` for the plain one.
 */
export async function runSessionAction(
  config: AuthConfig & { basePath: string },
  origin: string,
  cookieHeader: string,
): Promise<{ setCookies: string[]; cookieHeader: string; token: JWT | null }> {
  const url = new URL(`${config.basePath}/session`, origin);
  const cookie = sessionCookieFor(config, url, cookieHeader);
  url.protocol = cookie.secure ? "https:" : "http:";
  const response = await Auth(new Request(url, { headers: { cookie: cookieHeader } }), config);
  const setCookies = response.headers.getSetCookie();
  const updated = replaceSessionCookies(cookieHeader, setCookies, cookie.name);
  return { setCookies, cookieHeader: updated, token: await readSessionToken(config, url, updated) };
}

/** @internal Is `name` the session cookie or one of its chunks (`name.0`, `name.1`, …)? */
export function isSessionCookie(name: string, sessionName: string): boolean {
  if (name === sessionName) return true;
  return (
    name.length > sessionName.length + 1 &&
    name.startsWith(`${sessionName}.`) &&
    CHUNK_INDEX.test(name.slice(sessionName.length + 1))
  );
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
  const touched = setCookies.some((header) =>
    isSessionCookie(header.slice(0, header.indexOf("=")).trim(), sessionName),
  );
  if (!touched) return cookieHeader;
  const kept = Object.entries(parseCookie(cookieHeader, { decode: (value) => value })).filter(
    ([name]) => !isSessionCookie(name, sessionName),
  );
  const updates = new Map<string, string>();
  for (const header of setCookies) {
    const pair = header.split(";", 1)[0] ?? "";
    const eq = pair.indexOf("=");
    if (eq < 1) continue;
    const name = pair.slice(0, eq).trim();
    if (!isSessionCookie(name, sessionName)) continue;
    const expired = /;\s*max-age=0\b/i.test(header) || /;\s*expires=Thu, 01 Jan 1970/i.test(header);
    const value = pair.slice(eq + 1).trim();
    if (expired || value === "") updates.delete(name);
    else updates.set(name, value);
  }
  return [...kept, ...updates]
    .filter((entry): entry is [string, string] => entry[1] !== undefined)
    .map(([name, value]) => `${name}=${value}`)
    .join("; ");
}

/** @internal The backend state of a decoded session token. */
export function stateOf(token: JWT | null): BackendTokenState | undefined {
  return token?.backend;
}
