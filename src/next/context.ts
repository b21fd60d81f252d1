import { type AuthConfig, setEnvDefaults } from "@auth/core";
import { backendAuthLogger } from "../auth-logger.js";
import { authSecrets } from "../lib/auth-secrets.js";
import { checkPath } from "../lib/option-checks.js";
import { routedPathname, safeCallbackPath } from "../lib/redirects.js";
import type { RefreshMode } from "../model/types.js";
import { runtimeOf } from "../session/runtime.js";
import { withBackend } from "../with-backend.js";
import { type MirrorOption, withMirrorCleanup } from "./mirror.js";

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
  mirrorBackendCookies?: MirrorOption;
}

/** An Auth.js config as the Next.js layer runs it: env defaults applied, `basePath` known. */
export type ResolvedAuthConfig = AuthConfig & { basePath: string };

/** @internal Everything the Next.js helpers share: the config per refresh mode, and the paths. */
export interface NextContext {
  /**
   * The app's config with the rotation callbacks installed for `mode`: `"auto"` where the
   * response can save cookies (proxy, route handlers), `"never"` where it cannot (Server
   * Components, `auth()` in server actions), `"force"` for the refresh route after a 401.
   */
  config(mode: RefreshMode): ResolvedAuthConfig;
  options: Required<Omit<NextBackendOptions, "mirrorBackendCookies">> & {
    mirrorBackendCookies: MirrorOption | undefined;
  };
  /**
   * An untrusted `callbackUrl` as a same-origin path (`safeCallbackPath`), never one of our own
   * routes (Auth.js's `basePath`, `refreshPath`, `expiredPath`): a redirect back into them could
   * chain refreshes or sign-outs. `fallback` otherwise.
   */
  callbackPath(value: unknown, origin: string, fallback?: string): string;
}

/** @internal Checks the options of {@link nextBackend} and builds the shared context. */
export function createNextContext(config: AuthConfig, options: NextBackendOptions): NextContext {
  if (!config.providers.some((provider) => runtimeOf(provider))) {
    throw new TypeError("nextBackend: config.providers contains no BackendCredentials provider");
  }
  for (const name of ["signInPath", "refreshPath", "expiredPath"] as const) {
    checkPath("nextBackend", name, options[name]);
  }
  const mirror = options.mirrorBackendCookies;
  const variants = new Map<RefreshMode, ResolvedAuthConfig>();
  const variant = (mode: RefreshMode) => {
    let resolved = variants.get(mode);
    if (!resolved) {
      resolved = withEnvDefaults(withMirrorCleanup(withBackend(config, { refresh: mode }), mirror));
      variants.set(mode, resolved);
    }
    return resolved;
  };
  // Compared as the server routes them: "/api/auth/expired/" is our route too.
  const normalise = routedPathname;
  const isOwnRoute = (pathname: string) => {
    const path = normalise(pathname);
    const basePath = normalise(variant("auto").basePath);
    return (
      path === normalise(options.refreshPath ?? "/api/auth/refresh") ||
      path === normalise(options.expiredPath ?? "/api/auth/expired") ||
      path === basePath ||
      path.startsWith(`${basePath}/`)
    );
  };
  return {
    config: variant,
    callbackPath(value, origin, fallback = "/") {
      const path = safeCallbackPath(value, origin, fallback);
      return isOwnRoute(new URL(path, origin).pathname) ? fallback : path;
    },
    options: {
      get signInPath() {
        return options.signInPath ?? config.pages?.signIn ?? `${variant("auto").basePath}/signin`;
      },
      refreshPath: options.refreshPath ?? "/api/auth/refresh",
      expiredPath: options.expiredPath ?? "/api/auth/expired",
      mirrorBackendCookies: mirror,
    },
  };
}

/**
 * next-auth's defaults (secrets from the environment, basePath from AUTH_URL or `/api/auth`),
 * and our quiet logger when the app has none: a refused sign-in is one line, not a stack trace.
 */
function withEnvDefaults(config: AuthConfig): ResolvedAuthConfig {
  const resolved = { ...config };
  resolved.logger ??= backendAuthLogger;
  if (!resolved.secret?.length) {
    const secrets = authSecrets();
    if (secrets.length > 0) resolved.secret = secrets;
  }
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
  return resolved as ResolvedAuthConfig;
}
