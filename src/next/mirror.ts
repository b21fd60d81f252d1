import { stringifySetCookie } from "cookie";
import { isEnded } from "../lib/backend-session.js";
import type { Runtime } from "../lib/runtime.js";
import type { BackendTokenState } from "../types.js";
import type { NextContext } from "./context.js";

/** @internal A cookie to set in the browser. */
export interface BrowserCookie {
  name: string;
  value: string;
  options: {
    path: string;
    httpOnly: true;
    secure: boolean;
    sameSite: "lax" | "strict" | "none";
    maxAge?: number;
    expires?: Date;
  };
}

/**
 * @internal The session's backend cookies to copy to the browser, as
 * `nextBackend({ mirrorBackendCookies })` asks: forced `HttpOnly`, `Secure` on https (and always
 * with `SameSite=None`), `SameSite` at least `Lax`, no `Domain`. Never the refresh-token cookie: a
 * browser holding it could rotate it behind our back and turn our copy into a reused token.
 */
export function mirroredCookies(
  context: NextContext,
  runtime: Runtime,
  state: BackendTokenState,
  url: URL,
): BrowserCookie[] {
  const names = mirroredNames(context, runtime, state);
  const nowSeconds = runtime.options.now() / 1000;
  return state.cookies
    .filter((cookie) => names.has(cookie.name))
    .map((cookie) => {
      const sameSite = cookie.sameSite ?? "lax";
      return {
        name: cookie.name,
        value: cookie.value,
        options: {
          path: cookie.path ?? "/",
          httpOnly: true,
          secure: url.protocol === "https:" || sameSite === "none",
          sameSite,
          ...(cookie.expiresAt !== undefined && {
            maxAge: Math.max(0, Math.floor(cookie.expiresAt - nowSeconds)),
          }),
        },
      };
    });
}

/**
 * @internal `Set-Cookie` header values that bring the browser's copies from session `before` to
 * session `after`: the mirrored cookies of `after`, and a deletion for every copy made from
 * `before` that `after` no longer has (the backend deleted it with `Max-Age=0`, or the session
 * ended and keeps no backend cookies).
 */
export function mirrorUpdates(
  context: NextContext,
  runtime: Runtime,
  before: BackendTokenState,
  after: BackendTokenState | undefined,
  url: URL,
): string[] {
  const current = after && !isEnded(after) ? mirroredCookies(context, runtime, after, url) : [];
  const key = (cookie: BrowserCookie) => `${cookie.name}\0${cookie.options.path}`;
  const kept = new Set(current.map(key));
  const gone = mirroredCookies(context, runtime, before, url)
    .filter((cookie) => !kept.has(key(cookie)))
    // Expires as well as Max-Age: Next.js drops Max-Age=0 when it re-serialises response cookies.
    .map((cookie) => ({
      ...cookie,
      value: "",
      options: { ...cookie.options, maxAge: 0, expires: new Date(0) },
    }));
  return [...current, ...gone].map((cookie) =>
    stringifySetCookie(cookie.name, cookie.value, { ...cookie.options, encode: (v) => v }),
  );
}

/** @internal Names of the backend cookies mirrored to the browser for this session. */
export function mirroredNames(
  context: NextContext,
  runtime: Runtime,
  state: BackendTokenState | undefined,
): Set<string> {
  const option = context.options.mirrorBackendCookies;
  if (!option) return new Set();
  const names = new Set(
    option === true ? (state?.cookies ?? []).map((cookie) => cookie.name) : option,
  );
  const refreshCookie = runtime.options.refreshToken.cookie;
  if (refreshCookie) names.delete(refreshCookie);
  return names;
}

/**
 * @internal The value to hand to Next.js's `cookies().set()` so that the browser receives `value`
 * byte for byte. Next.js URL-encodes cookie values (`encodeURIComponent`), so a backend value such
 * as `s%3Aabc.def` (an Express session id) would otherwise reach the browser double-encoded.
 * `undefined` when no string encodes back to `value` exactly (raw `=`, `/`, quotes, …): such a
 * cookie cannot be set byte-exact through `cookies()`.
 */
export function valueForNextCookies(value: string): string | undefined {
  let decoded: string;
  try {
    decoded = decodeURIComponent(value);
  } catch {
    return undefined;
  }
  return encodeURIComponent(decoded) === value ? decoded : undefined;
}
