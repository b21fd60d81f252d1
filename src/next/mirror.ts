import { stringifySetCookie } from "cookie";
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

/** @internal {@link mirroredCookies} as `Set-Cookie` header values. */
export function mirroredSetCookies(
  context: NextContext,
  runtime: Runtime,
  state: BackendTokenState,
  url: URL,
): string[] {
  return mirroredCookies(context, runtime, state, url).map((cookie) =>
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
