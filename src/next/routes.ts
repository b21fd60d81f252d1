import { parseCookie, stringifySetCookie } from "cookie";
import { refreshIfNeeded } from "../session/refresh.js";
import { runtimeFor } from "../session/runtime.js";
import { runSessionAction } from "../session/session-action.js";
import {
  readSessionToken,
  sessionCookieFor,
  sessionCookieNames,
  stateOf,
} from "../session/session-cookie.js";
import { isEnded } from "../session/state.js";
import type { NextContext } from "./context.js";
import { mirroredCopies, mirrorUpdates } from "./mirror.js";
import {
  isSameOriginRequest,
  pathWithParams,
  redirectResponse as redirect,
} from "./request-info.js";
import { isStaleMarker, staleMarker } from "./stale-marker.js";

/** A route handler pair for `app/…/route.ts`: `export const { GET, POST } = backend.refreshRoute`. */
export interface RouteHandlers {
  GET: (request: Request) => Promise<Response>;
  POST: (request: Request) => Promise<Response>;
}

/**
 * Marker cookie of the refresh route: after a refresh forced by a failed backend call it holds the
 * new tokens' `stale` marker (see stale-marker.ts; scoped to `refreshPath`, one minute). A request that comes back with
 * that token as `stale` means the backend rejected the token we just got: the session is ended
 * instead of refreshed again, so a backend that rejects every token cannot cause a loop, however
 * long the page takes before its backend call.
 */
const RETRIED_COOKIE = "authjs-backend.retried";
const RETRIED_MAX_AGE_SECONDS = 60;

/**
 * @internal `GET|POST {refreshPath}?callbackUrl=…&stale=…`: refreshes the session (even when the
 * token is not yet due: it is reached after a 401) in a context that can write cookies, then
 * redirects back to the same-origin `callbackUrl` with a 307, so the original request is retried
 * once with the new token. `stale` is the marker (an HMAC, see stale-marker.ts) of the tokens that
 * failed: when the session has been refreshed since, no new refresh is made; when those tokens
 * are the ones a previous visit here produced (the `authjs-backend.retried` marker cookie), the
 * backend rejected brand-new tokens and the session goes to `expiredPath` instead. A cross-site
 * request without a valid marker refreshes nothing: it only redirects to its `callbackUrl`.
 */
export function createRefreshRoute(context: NextContext): RouteHandlers {
  const handler = async (request: Request): Promise<Response> => {
    const config = context.config("force");
    const url = new URL(request.url);
    const { origin } = url;
    const callbackUrl = context.callbackPath(url.searchParams.get("callbackUrl"), origin);
    const { signInPath, expiredPath, refreshPath } = context.options;
    const cookieHeader = request.headers.get("cookie") ?? "";
    const state = stateOf(await readSessionToken(config, request));
    const runtime = state && runtimeFor(config.providers, state.provider);
    if (!state || !runtime)
      return redirect(origin, pathWithParams(signInPath, { callbackUrl }), 303);
    const expired = pathWithParams(expiredPath, { callbackUrl });
    if (isEnded(state)) return redirect(origin, expired, 303);
    const stale = url.searchParams.get("stale");
    const ours = await isStaleMarker(config, state, stale);
    // A refresh changes state: another site's link or form may not cause one (a GET included).
    // Our own redirects carry the marker, which only this app can compute.
    if (!ours && !isSameOriginRequest(request, url)) return redirect(origin, callbackUrl, 303);
    if (stale !== null) {
      // A marker of older tokens (or none of ours): the session was refreshed since; go back.
      if (!ours) return redirect(origin, callbackUrl, 307);
      if (retriedMarker(cookieHeader) === stale) {
        // `stale` vouches (to the expired route) that this is our own redirect: see there.
        return redirect(origin, pathWithParams(expired, { stale }), 303);
      }
    }
    const result = await runSessionAction(config, request);
    const next = stateOf(result.token);
    let response: Response;
    if (!next) {
      response = redirect(origin, pathWithParams(signInPath, { callbackUrl }), 303);
    } else if (isEnded(next)) {
      response = redirect(origin, expired, 303);
    } else if (next.error === "RefreshUnavailable" && next.receivedAt === state.receivedAt) {
      // The backend is unreachable: say so instead of bouncing between page and route.
      response = new Response("The service is temporarily unavailable. Please try again shortly.", {
        status: 503,
        headers: { "content-type": "text/plain; charset=utf-8", "retry-after": "5" },
      });
    } else {
      response = redirect(origin, callbackUrl, 307);
      if (stale !== null) {
        const secure = url.protocol === "https:" || sessionCookieFor(config, request).secure;
        response.headers.append(
          "set-cookie",
          stringifySetCookie(RETRIED_COOKIE, await staleMarker(config, next), {
            path: refreshPath,
            maxAge: RETRIED_MAX_AGE_SECONDS,
            httpOnly: true,
            secure,
            sameSite: "lax",
          }),
        );
      }
    }
    for (const cookie of [
      ...result.setCookies,
      ...mirrorUpdates(context.options.mirrorBackendCookies, runtime, state, next, url),
    ]) {
      response.headers.append("set-cookie", cookie);
    }
    return response;
  };
  return { GET: handler, POST: handler };
}

/** The refresh route's marker cookie value, if the request carries it. */
function retriedMarker(cookieHeader: string): string | undefined {
  return parseCookie(cookieHeader, { decode: (value) => value })[RETRIED_COOKIE];
}

/**
 * @internal `GET|POST {expiredPath}?callbackUrl=…`: the sign-out route for sessions that cannot
 * continue (refresh rejected, expired, or a 401 that a refresh did not cure). Calls the backend's
 * logout when tokens remain (failures are logged), deletes the session cookie and its chunks, the
 * mirrored backend cookies and the refresh route's marker cookie, and redirects to the sign-in page
 * with `error=SessionExpired` and a same-origin `callbackUrl`. Never loops: it does not depend on
 * the session being valid.
 *
 * A request another site caused (`Sec-Fetch-Site` other than same-origin/none, or a foreign
 * `Origin`: a link or form on another site, a sibling subdomain) for a session that has not ended
 * (also by time) does not sign out: it only redirects to the same-origin `callbackUrl`
 * (or `/`), so other sites cannot log users out. Ended sessions are always cleaned up, and so is
 * a session the refresh route sends here (its `stale` parameter names the current token, which
 * another site cannot know), because a cross-site navigation stays cross-site through redirects.
 */
export function createExpiredRoute(context: NextContext): RouteHandlers {
  const handler = async (request: Request): Promise<Response> => {
    const config = context.config("auto");
    const url = new URL(request.url);
    const callbackUrl = context.callbackPath(url.searchParams.get("callbackUrl"), url.origin);
    const cookieHeader = request.headers.get("cookie") ?? "";
    const token = await readSessionToken(config, request);
    const state = stateOf(token);
    const runtime = state && runtimeFor(config.providers, state.provider);
    // Ended counts what time alone has ended too (refresh token expired, …), without a refresh.
    const ended =
      state !== undefined &&
      isEnded(runtime ? await refreshIfNeeded(runtime, state, "never") : state);
    if (
      token &&
      !ended &&
      !isSameOriginRequest(request, url) &&
      !(state && (await isStaleMarker(config, state, url.searchParams.get("stale"))))
    ) {
      return redirect(url.origin, callbackUrl, 303);
    }
    if (token && state) {
      try {
        await config.events?.signOut?.({ token });
      } catch {
        // events.signOut of withBackend never throws for backend failures; an app event might.
      }
    }
    const response = redirect(
      url.origin,
      pathWithParams(context.options.signInPath, { error: "SessionExpired", callbackUrl }),
      303,
    );
    const sessionName = sessionCookieFor(config, request).name;
    const deletions = sessionCookieNames(cookieHeader, sessionName).map((name) => ({
      name,
      path: "/",
    }));
    if (runtime) {
      deletions.push(...mirroredCopies(context.options.mirrorBackendCookies, runtime, state));
    }
    // Sent only to refreshPath, so not in this request's cookies: deleted blindly.
    deletions.push({ name: RETRIED_COOKIE, path: context.options.refreshPath });
    for (const { name, path } of deletions) {
      response.headers.append(
        "set-cookie",
        stringifySetCookie(name, "", {
          path,
          maxAge: 0,
          // Next.js re-serialises response cookies when the handler also used cookies() (the
          // sign-out event does) and drops Max-Age=0; Expires keeps this a deletion.
          expires: new Date(0),
          httpOnly: true,
          secure: name.startsWith("__Secure-") || url.protocol === "https:",
          sameSite: "lax",
        }),
      );
    }
    return response;
  };
  return { GET: handler, POST: handler };
}
