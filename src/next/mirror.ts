import type { AuthConfig } from "@auth/core";
import { stringifySetCookie } from "cookie";
import { cookies } from "next/headers";
import type { BackendTokenState } from "../model/types.js";
import { isReservedCookieName } from "../session/cookie-jar.js";
import { type Runtime, runtimeFor } from "../session/runtime.js";
import { isEnded } from "../session/state.js";

/**
 * Which backend cookies are copied to the browser (`nextBackend({ mirrorBackendCookies })`):
 * `true` for all, a list of names, or `false`/absent for none.
 */
export type MirrorOption = boolean | readonly string[];

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
 * `nextBackend({ mirrorBackendCookies })` asks: forced `HttpOnly`, `Secure` on https, `SameSite`
 * `Lax` (or `Strict` when the backend said so; a backend's `None` is not copied), no `Domain`.
 * One copy per name and path. Never the refresh-token cookie (a browser holding it could rotate it
 * behind our back and turn our copy into a reused token), and never a `__Host-` or `__Secure-`
 * name: the browser binds those to the origin that sets them, so a copy could only shadow the
 * app's own.
 */
export function mirroredCookies(
  option: MirrorOption | undefined,
  runtime: Runtime,
  state: BackendTokenState,
  url: URL,
): BrowserCookie[] {
  const names = mirroredNames(option, runtime, state);
  const nowSeconds = runtime.options.now() / 1000;
  return state.cookies
    .filter((cookie) => names.has(cookie.name))
    .map((cookie) => {
      const sameSite = cookie.sameSite === "strict" ? "strict" : "lax";
      return {
        name: cookie.name,
        value: cookie.value,
        options: {
          path: cookie.path ?? "/",
          httpOnly: true,
          secure: url.protocol === "https:",
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
  option: MirrorOption | undefined,
  runtime: Runtime,
  before: BackendTokenState,
  after: BackendTokenState | undefined,
  url: URL,
): string[] {
  const current = after && !isEnded(after) ? mirroredCookies(option, runtime, after, url) : [];
  const key = (cookie: BrowserCookie) => `${cookie.name}\0${cookie.options.path}`;
  const kept = new Set(current.map(key));
  const gone = mirroredCookies(option, runtime, before, url)
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
function mirroredNames(
  option: MirrorOption | undefined,
  runtime: Runtime,
  state: BackendTokenState | undefined,
): Set<string> {
  if (!option) return new Set();
  const names = new Set<string>(
    option === true ? (state?.cookies ?? []).map((cookie) => cookie.name) : option,
  );
  const refreshCookie = runtime.options.refreshToken.cookie;
  if (refreshCookie) names.delete(refreshCookie);
  for (const name of names) {
    // Sessions stored by older versions may hold names the jar refuses today.
    if (PREFIXED.test(name) || isReservedCookieName(name, runtime.reservedCookieNames)) {
      names.delete(name);
    }
  }
  return names;
}

/** Cookie name prefixes the browser binds to the origin that sets them. */
const PREFIXED = /^__(host|secure)-/i;

/**
 * @internal Every copy in the browser this session's mirroring can have made: one per stored
 * cookie (name and path), so two backend cookies of one name on different paths are both deleted.
 */
export function mirroredCopies(
  option: MirrorOption | undefined,
  runtime: Runtime,
  state: BackendTokenState | undefined,
): Array<{ name: string; path: string }> {
  const names = mirroredNames(option, runtime, state);
  const copies = new Map<string, { name: string; path: string }>();
  for (const name of names) copies.set(`${name}\0/`, { name, path: "/" });
  for (const cookie of state?.cookies ?? []) {
    if (!names.has(cookie.name)) continue;
    const path = cookie.path ?? "/";
    copies.set(`${cookie.name}\0${path}`, { name: cookie.name, path });
  }
  return [...copies.values()];
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

/**
 * @internal Adds to the sign-out event the deletion of the backend cookies mirrored to the
 * browser: next-auth's `signOut()` only deletes Auth.js's own cookies. It runs where next-auth
 * signs out (a server action or the sign-out route handler), both of which may write cookies
 * through `cookies()`.
 */
export function withMirrorCleanup(
  config: AuthConfig,
  option: MirrorOption | undefined,
): AuthConfig {
  if (!option) return config;
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
        const copies = mirroredCopies(option, runtime, state);
        if (copies.length === 0) return;
        try {
          const jar = await cookies();
          // cookies() holds one entry per name, so a name stored on several paths loses its
          // other copies here only at their expiry (or through the expired route, which writes
          // raw headers): the stored path wins over the "/" default.
          const byName = new Map(copies.map((copy) => [copy.name, copy.path]));
          for (const [name, path] of byName) {
            jar.set(name, "", { path, maxAge: 0, expires: new Date(0) });
          }
        } catch {
          // Not in a Next.js request that can write cookies (e.g. Auth() called directly).
        }
      },
    },
  };
}
