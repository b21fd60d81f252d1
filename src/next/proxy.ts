import { type NextRequest, NextResponse } from "next/server";
import { safeCallbackPath } from "../lib/redirects.js";
import type { BackendSessionError, BackendUser } from "../model/types.js";
import { runtimeFor } from "../session/runtime.js";
import { runSessionAction } from "../session/session-action.js";
import { readSessionToken, stateOf } from "../session/session-cookie.js";
import { isEnded, needsRefresh } from "../session/state.js";
import type { NextContext } from "./context.js";
import { mirrorUpdates } from "./mirror.js";
import { PATH_HEADER, pathWithParams, redirectResponse } from "./request-info.js";

/** What the proxy knows about the request's session, handed to your own proxy logic. */
export interface ProxySession {
  user: BackendUser;
  error?: BackendSessionError;
  /** Seconds since the epoch. */
  accessTokenExpiresAt?: number;
}

/** Options of `backend.proxy()`. */
export interface BackendProxyOptions {
  /**
   * Paths that need a signed-in user: a path prefix (`"/dashboard"` matches `/dashboard` and
   * `/dashboard/…`), a RegExp, or a function of the pathname. Unauthenticated requests are
   * redirected to the sign-in page with a same-origin `callbackUrl`; ended sessions go through the
   * expired-session route. The sign-in page itself (the pathname of `signInPath`) and this layer's
   * and Auth.js's own routes are never protected, so `protect: ["/"]` cannot loop.
   * @default [] (nothing protected; refresh still happens everywhere)
   */
  protect?: ReadonlyArray<string | RegExp> | ((pathname: string) => boolean);
  /**
   * Your own proxy logic, run after the session is refreshed. Return a response to use it
   * (our cookies are added to it), or nothing to continue. To continue with the refreshed session,
   * return `NextResponse.next({ request: { headers: requestHeaders } })`.
   */
  handler?: (
    request: NextRequest,
    context: { session: ProxySession | null; requestHeaders: Headers },
  ) => Response | undefined | Promise<Response | undefined>;
}

/**
 * @internal Builds the proxy (`proxy.ts` in Next 16, `middleware.ts` before): refreshes the access
 * token before it expires, writes the rotated session cookie to the response **and** into the
 * request's `cookie` header, so Server Components of the same request read the new session and do
 * not refresh again with the already-used refresh token.
 */
export function createProxy(context: NextContext, options: BackendProxyOptions = {}) {
  const isProtected = protectMatcher(options.protect ?? []);
  return async function proxy(request: NextRequest): Promise<Response> {
    const config = context.config("auto");
    const url = request.nextUrl;
    const origin = url.origin;
    const path = `${url.pathname}${url.search}`;
    const requestHeaders = new Headers(request.headers);
    requestHeaders.set(PATH_HEADER, path);
    // Auth.js's own routes and ours handle the session themselves.
    const { refreshPath, expiredPath, signInPath } = context.options;
    const ownRoute =
      url.pathname.startsWith(`${config.basePath}/`) ||
      url.pathname === refreshPath ||
      url.pathname === expiredPath;
    // The sign-in page must stay reachable without a session (else protect: ["/"] loops).
    const signInPage = url.pathname === new URL(signInPath, origin).pathname;
    let token = ownRoute ? null : await readSessionToken(config, request);
    let setCookies: string[] = [];
    const state = stateOf(token);
    const runtime = state && runtimeFor(config.providers, state.provider);
    if (state && runtime && needsRefresh(runtime, state)) {
      const result = await runSessionAction(config, request);
      setCookies = result.setCookies;
      token = result.token;
      requestHeaders.set("cookie", result.cookieHeader);
      setCookies.push(
        ...mirrorUpdates(context.options.mirrorBackendCookies, runtime, state, stateOf(token), url),
      );
    }
    const current = stateOf(token);
    const session: ProxySession | null = current
      ? {
          user: current.user,
          ...(current.error && { error: current.error }),
          ...(current.accessTokenExpiresAt !== undefined && {
            accessTokenExpiresAt: current.accessTokenExpiresAt,
          }),
        }
      : null;

    let response: Response | undefined;
    if (!ownRoute && !signInPage && isProtected(url.pathname)) {
      const target = !current ? signInPath : isEnded(current) ? expiredPath : undefined;
      if (target) {
        const callbackUrl = safeCallbackPath(path, origin);
        // Absolute: Next.js's proxy adapter cannot parse a relative Location (see redirectResponse).
        response = redirectResponse(origin, pathWithParams(target, { callbackUrl }), 307, {
          absolute: true,
        });
      }
    }
    response ??= await options.handler?.(request, { session, requestHeaders });
    response ??= NextResponse.next({ request: { headers: requestHeaders } });
    if (setCookies.length === 0) return response;
    // A rotated session must reach the browser whatever the app returned: responses from
    // Response.redirect() or fetch() have immutable headers, so copy those first.
    let writable = response;
    try {
      writable.headers.append("x-authjs-backend-probe", "1");
      writable.headers.delete("x-authjs-backend-probe");
    } catch {
      writable = new NextResponse(response.body, response);
    }
    for (const cookie of setCookies) writable.headers.append("set-cookie", cookie);
    writable.headers.set("cache-control", "private, no-store");
    return writable;
  };
}

function protectMatcher(
  protect: NonNullable<BackendProxyOptions["protect"]>,
): (pathname: string) => boolean {
  if (typeof protect === "function") return protect;
  if (!Array.isArray(protect)) {
    throw new TypeError("backend.proxy: option protect must be an array or a function");
  }
  // A RegExp with the `g` or `y` flag keeps its position between calls: use a stateless copy.
  const rules = protect.map((rule) =>
    rule instanceof RegExp ? new RegExp(rule.source, rule.flags.replace(/[gy]/g, "")) : rule,
  );
  return (pathname) =>
    rules.some((rule) =>
      typeof rule === "string"
        ? pathname === rule || pathname.startsWith(rule.endsWith("/") ? rule : `${rule}/`)
        : rule.test(pathname),
    );
}
