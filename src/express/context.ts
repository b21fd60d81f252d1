import { type AuthConfig, setEnvDefaults } from "@auth/core";
import type { JWT } from "@auth/core/jwt";
import { stringifySetCookie } from "cookie";
import type { Request, Response } from "express";
import { authSecrets } from "../lib/auth-secrets.js";
import { checkPath } from "../lib/option-checks.js";
import { routedPathname } from "../lib/redirects.js";
import type { RefreshMode } from "../model/types.js";
import { runtimeOf } from "../session/runtime.js";
import { runSessionAction } from "../session/session-action.js";
import {
  readSessionToken,
  type SessionCookie,
  type SessionRequest,
  sessionCookieFor,
  sessionCookieNames,
} from "../session/session-cookie.js";
import { withBackend } from "../with-backend.js";

/** Options every Express helper of this package shares. */
export interface ExpressContextOptions {
  /**
   * Where `ExpressAuth` is mounted (`app.use("/auth", ExpressAuth(config))`): its routes are left
   * alone, and the session is refreshed through Auth.js's session action at `{basePath}/session`.
   * @default config.basePath, else "/auth" (as `@auth/express` resolves it)
   */
  basePath?: string;
}

/** An Auth.js config as the Express helpers run it: env defaults applied, `basePath` known. */
type ResolvedAuthConfig = AuthConfig & { basePath: string };

/** @internal What the Express helpers share: the config per refresh mode, and the base path. */
export interface ExpressContext {
  /** The app's config with the rotation callbacks installed for `mode`. */
  config(mode: RefreshMode): ResolvedAuthConfig;
  /** Is `req` for one of Auth.js's own routes (under `basePath`)? */
  isAuthRoute(req: Request): boolean;
}

/** @internal Checks `config` and the options, and builds the shared context. */
export function createExpressContext(
  owner: string,
  config: AuthConfig,
  options: ExpressContextOptions,
): ExpressContext {
  if (!config || !Array.isArray(config.providers)) {
    throw new TypeError(`${owner}: expected an Auth.js config with a providers array`);
  }
  if (!config.providers.some((provider) => runtimeOf(provider))) {
    throw new TypeError(`${owner}: config.providers contains no BackendCredentials provider`);
  }
  checkPath(owner, "basePath", options.basePath);
  const variants = new Map<RefreshMode, ResolvedAuthConfig>();
  const variant = (mode: RefreshMode) => {
    let resolved = variants.get(mode);
    if (!resolved) {
      resolved = { ...withBackend(config, { refresh: mode }) } as ResolvedAuthConfig;
      resolved.basePath = (options.basePath ?? config.basePath ?? "/auth").replace(/\/+$/, "");
      if (!resolved.secret?.length) {
        const secrets = authSecrets();
        if (secrets.length > 0) resolved.secret = secrets;
      }
      // As @auth/express does on every request: trustHost and the rest from the environment.
      setEnvDefaults(process.env, resolved, true);
      variants.set(mode, resolved);
    }
    return resolved;
  };
  return {
    config: variant,
    isAuthRoute(req) {
      // Express routes case-insensitively and ignores repeated and trailing slashes by default.
      const path = routedPathname(pathnameOf(req.originalUrl ?? req.url));
      const basePath = routedPathname(variant("auto").basePath);
      return path === basePath || path.startsWith(`${basePath}/`);
    },
  };
}

function pathnameOf(url: string): string {
  const end = url.search(/[?#]/);
  return end === -1 ? url : url.slice(0, end);
}

/**
 * @internal The request as the session-cookie rule sees it: its URL (`req.protocol`, which
 * honours Express's `trust proxy`, and the `Host`), its `Cookie` header (as rewritten by a
 * refresh earlier in this request) and `X-Forwarded-Proto`.
 */
export function sessionRequestOf(req: Request): SessionRequest & { url: string } {
  const headers = new Headers();
  if (req.headers.cookie) headers.set("cookie", req.headers.cookie);
  const forwarded = req.headers["x-forwarded-proto"];
  const proto = Array.isArray(forwarded) ? forwarded[0] : forwarded;
  if (proto) headers.set("x-forwarded-proto", proto);
  let url = "http://localhost/";
  try {
    url = new URL(req.originalUrl ?? req.url, `${req.protocol}://${req.get("host") ?? "localhost"}`)
      .href;
  } catch {
    // A Host header that is no host: http://localhost, as Auth.js would fail on it anyway.
  }
  return { url, headers };
}

/** The `Cookie` header each request arrived with, before a refresh rewrote it. */
const arrivedWith = new WeakMap<Request, string>();

/** @internal Reads the request's session token (after any refresh made earlier in the request). */
export function currentToken(context: ExpressContext, req: Request): Promise<JWT | null> {
  return readSessionToken(context.config("never"), sessionRequestOf(req));
}

/**
 * @internal Runs Auth.js's session action for `req` with `mode` (the `jwt` callback refreshes
 * through the coordinator), writes the re-issued session cookie to `res` (replacing one written
 * earlier in this request) and rewrites `req.headers.cookie`, so everything later in the request
 * (`getSession`, our helpers) reads the new session. Returns the new token (`null`: no session).
 */
export async function refreshSession(
  context: ExpressContext,
  req: Request,
  res: Response,
  mode: RefreshMode,
): Promise<JWT | null> {
  const config = context.config(mode);
  const request = sessionRequestOf(req);
  const result = await runSessionAction(config, request);
  if (!arrivedWith.has(req)) arrivedWith.set(req, req.headers.cookie ?? "");
  const { name } = sessionCookieFor(config, request);
  setSessionCookies(res, name, result.setCookies);
  req.headers.cookie = result.cookieHeader;
  return result.token;
}

/**
 * @internal Deletes the session cookie and its chunks in the browser: those the request arrived
 * with, those it carries now and those written earlier in this response.
 */
export function deleteSessionCookies(
  context: ExpressContext,
  req: Request,
  res: Response,
): string[] {
  const config = context.config("never");
  const cookie: SessionCookie = sessionCookieFor(config, sessionRequestOf(req));
  const names = new Set([
    ...sessionCookieNames(arrivedWith.get(req) ?? "", cookie.name),
    ...sessionCookieNames(req.headers.cookie ?? "", cookie.name),
    ...setCookieHeaders(res)
      .map((header) => header.split(";", 1)[0] ?? "")
      .flatMap((pair) => sessionCookieNames(pair, cookie.name)),
  ]);
  const path = config.cookies?.sessionToken?.options?.path ?? "/";
  const deletions = [...names].map((name) =>
    stringifySetCookie(name, "", {
      path,
      maxAge: 0,
      expires: new Date(0),
      httpOnly: true,
      secure: cookie.secure || name.startsWith("__Secure-"),
      sameSite: "lax",
    }),
  );
  setSessionCookies(res, cookie.name, deletions);
  return [...names];
}

/** Replaces the session's `Set-Cookie` headers on `res` by `setCookies`, keeping the others. */
function setSessionCookies(res: Response, sessionName: string, setCookies: string[]): void {
  const kept = setCookieHeaders(res).filter(
    (header) => sessionCookieNames(header.split(";", 1)[0] ?? "", sessionName).length === 0,
  );
  res.setHeader("set-cookie", [...kept, ...setCookies]);
  res.setHeader("cache-control", "private, no-store");
}

function setCookieHeaders(res: Response): string[] {
  const value = res.getHeader("set-cookie");
  if (value === undefined) return [];
  return Array.isArray(value) ? value : [String(value)];
}
