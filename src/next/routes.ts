import { stringifySetCookie } from "cookie";
import { isEnded } from "../lib/backend-session.js";
import { runtimeFor } from "../lib/runtime.js";
import { safeCallbackPath } from "../redirects.js";
import {
  isSessionCookie,
  type NextContext,
  readSessionToken,
  runSessionAction,
  sessionCookieName,
  stateOf,
} from "./context.js";
import { mirroredNames, mirrorUpdates } from "./mirror.js";
import { pathWithParams } from "./request-info.js";

/** A route handler pair for `app/…/route.ts`: `export const { GET, POST } = backend.refreshRoute`. */
export interface RouteHandlers {
  GET: (request: Request) => Promise<Response>;
  POST: (request: Request) => Promise<Response>;
}

/**
 * A token younger than this (seconds) that the backend still answers 401 for is not refreshed
 * again: the session is ended instead, so a backend that rejects every token cannot cause a loop.
 */
const FRESH_TOKEN_SECONDS = 5;

/**
 * @internal `GET|POST {refreshPath}?callbackUrl=…&stale=…`: refreshes the session (even when the
 * token is not yet due: it is reached after a 401) in a context that can write cookies, then
 * redirects back to the same-origin `callbackUrl` with a 307, so the original request is retried
 * once with the new token. `stale` is the `receivedAt` of the token that failed: when the session
 * has been refreshed since, no new refresh is made.
 */
export function createRefreshRoute(context: NextContext): RouteHandlers {
  const handler = async (request: Request): Promise<Response> => {
    const config = context.forced();
    const url = new URL(request.url);
    const { origin } = url;
    const callbackUrl = safeCallbackPath(url.searchParams.get("callbackUrl"), origin);
    const { signInPath, expiredPath } = context.options;
    const cookieHeader = request.headers.get("cookie") ?? "";
    const state = stateOf(await readSessionToken(config, url, cookieHeader));
    const runtime = state && runtimeFor(config.providers, state.provider);
    if (!state || !runtime)
      return redirect(origin, pathWithParams(signInPath, { callbackUrl }), 303);
    if (isEnded(state)) return redirect(origin, pathWithParams(expiredPath, { callbackUrl }), 303);
    const stale = url.searchParams.get("stale");
    if (stale !== null) {
      if (String(state.receivedAt) !== stale) return redirect(origin, callbackUrl, 307);
      if (runtime.options.now() / 1000 - state.receivedAt < FRESH_TOKEN_SECONDS) {
        return redirect(origin, pathWithParams(expiredPath, { callbackUrl }), 303);
      }
    }
    const result = await runSessionAction(config, origin, cookieHeader);
    const next = stateOf(result.token);
    let response: Response;
    if (!next) {
      response = redirect(origin, pathWithParams(signInPath, { callbackUrl }), 303);
    } else if (isEnded(next)) {
      response = redirect(origin, pathWithParams(expiredPath, { callbackUrl }), 303);
    } else if (next.error === "RefreshUnavailable" && next.receivedAt === state.receivedAt) {
      // The backend is unreachable: say so instead of bouncing between page and route.
      response = new Response("The service is temporarily unavailable. Please try again shortly.", {
        status: 503,
        headers: { "content-type": "text/plain; charset=utf-8", "retry-after": "5" },
      });
    } else {
      response = redirect(origin, callbackUrl, 307);
    }
    for (const cookie of [
      ...result.setCookies,
      ...mirrorUpdates(context, runtime, state, next, url),
    ]) {
      response.headers.append("set-cookie", cookie);
    }
    return response;
  };
  return { GET: handler, POST: handler };
}

/**
 * @internal `GET|POST {expiredPath}?callbackUrl=…`: the sign-out route for sessions that cannot
 * continue (refresh rejected, expired, or a 401 that a refresh did not cure). Calls the backend's
 * logout when tokens remain (failures are logged), deletes the session cookie and its chunks and
 * the mirrored backend cookies, and redirects to the sign-in page with `error=SessionExpired` and
 * a same-origin `callbackUrl`. Never loops: it does not depend on the session being valid.
 */
export function createExpiredRoute(context: NextContext): RouteHandlers {
  const handler = async (request: Request): Promise<Response> => {
    const config = context.writable();
    const url = new URL(request.url);
    const callbackUrl = safeCallbackPath(url.searchParams.get("callbackUrl"), url.origin);
    const cookieHeader = request.headers.get("cookie") ?? "";
    const token = await readSessionToken(config, url, cookieHeader);
    const state = stateOf(token);
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
    const sessionName = sessionCookieName(config, url);
    const runtime = state && runtimeFor(config.providers, state.provider);
    const mirrored = runtime ? mirroredNames(context, runtime, state) : new Set<string>();
    for (const pair of cookieHeader.split(";")) {
      const name = pair.split("=", 1)[0]?.trim() ?? "";
      if (!name || !(isSessionCookie(name, sessionName) || mirrored.has(name))) continue;
      response.headers.append(
        "set-cookie",
        stringifySetCookie(name, "", {
          path: "/",
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

function redirect(origin: string, path: string, status: 303 | 307): Response {
  return new Response(null, {
    status,
    headers: {
      // Relative: in route handlers request.url carries Next.js's internal host (localhost:PORT),
      // not the origin the browser used.
      location: ((url) => `${url.pathname}${url.search}${url.hash}`)(new URL(path, origin)),
      "cache-control": "private, no-store",
    },
  });
}
