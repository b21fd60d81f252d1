import type { AuthConfig } from "@auth/core";
import type { JWT } from "@auth/core/jwt";
import type { Session } from "@auth/core/types";
import { oneOf } from "./lib/option-checks.js";
import { type BackendTokenState, REFRESH_MODES, type RefreshMode } from "./model/types.js";
import { logoutFromBackend } from "./session/logout.js";
import { refreshIfNeeded } from "./session/refresh.js";
import { type Runtime, runtimeOf } from "./session/runtime.js";
import { rememberedDecode, sessionEncode } from "./session/session-jwt.js";
import { accessTokenOf, isEnded } from "./session/state.js";

type Callbacks = NonNullable<AuthConfig["callbacks"]>;
type JwtParams = Parameters<NonNullable<Callbacks["jwt"]>>[0];
type SessionParams = Parameters<NonNullable<Callbacks["session"]>>[0];

/** The part of an Auth.js config that {@link withBackend} reads and extends. */
export type BackendAuthConfig = Pick<
  AuthConfig,
  "providers" | "callbacks" | "events" | "cookies" | "secret" | "jwt"
>;

/** Options of {@link withBackend}. */
export interface WithBackendOptions {
  /**
   * When the `jwt` callback refreshes the access token (see {@link RefreshMode}): `"auto"` when
   * due; `"never"` for contexts whose response cannot save the rotated session cookie (React
   * Server Components); `"force"` on every call (e.g. after the backend answered 401).
   * @default "auto"
   */
  refresh?: RefreshMode;
}

/** Marks wrapped configs (value: the app's original config) so wrapping twice is harmless. */
const ORIGINAL = Symbol.for("authjs-backend-credentials.original-config");

/**
 * Installs the rotation callbacks of every {@link BackendCredentials} provider in an Auth.js
 * config, composed with the app's own:
 *
 * - `jwt`: on sign-in stores tokens, expiries, profile and backend cookies in the encrypted
 *   session; on every later request refreshes the access token when it is due (single flight,
 *   grace cache, error classes). Then the app's `jwt` runs and sees the refreshed token.
 * - `session`: adds `user.id`, `user.roles` and extra profile fields, `error`,
 *   `accessTokenExpiresAt` (and `accessToken` only with `exposeAccessToken`); never the refresh
 *   token or backend cookies. Then the app's `session` runs.
 * - `events.signOut`: calls the backend's logout endpoint (failures are logged), then the app's.
 * - `jwt.encode`/`jwt.decode` (unless the app sets either): Auth.js's format, with the derived
 *   key computed once and each decode remembered per token for a minute, so the readers of one
 *   request decrypt the session cookie once.
 *
 * Also accepts the lazy form `withBackend((request) => config)` used by `NextAuth(fn)`.
 * Throws `TypeError` when the config has no BackendCredentials provider.
 *
 * @example
 * ```ts
 * export const { handlers, auth } = NextAuth(withBackend({
 *   providers: [BackendCredentials({ baseUrl: process.env.BACKEND_URL!, endpoints: { logout: "/auth/logout" } })],
 * }))
 * ```
 */
export function withBackend<Config extends BackendAuthConfig>(
  config: Config,
  options?: WithBackendOptions,
): Config;
export function withBackend<Args extends unknown[], Config extends BackendAuthConfig>(
  config: (...args: Args) => Config | Promise<Config>,
  options?: WithBackendOptions,
): (...args: Args) => Promise<Config>;
export function withBackend<Config extends BackendAuthConfig>(
  config: Config | ((...args: unknown[]) => Config | Promise<Config>),
  options: WithBackendOptions = {},
): Config | ((...args: unknown[]) => Promise<Config>) {
  if (typeof config === "function") {
    return async (...args: unknown[]) => wrapConfig(await config(...args), options);
  }
  return wrapConfig(config, options);
}

function wrapConfig<Config extends BackendAuthConfig>(
  wrappedOrOriginal: Config,
  options: WithBackendOptions,
): Config {
  if (
    typeof wrappedOrOriginal !== "object" ||
    wrappedOrOriginal === null ||
    !Array.isArray(wrappedOrOriginal.providers)
  ) {
    throw new TypeError("withBackend: expected an Auth.js config with a providers array");
  }
  const refresh = oneOf("withBackend", "refresh", options.refresh, REFRESH_MODES, "auto");
  const config: Config =
    (wrappedOrOriginal as { [ORIGINAL]?: Config })[ORIGINAL] ?? wrappedOrOriginal;
  const runtimes = new Map<string, Runtime>();
  for (const provider of config.providers) {
    const runtime = runtimeOf(provider);
    if (runtime) runtimes.set(runtime.options.id, runtime);
  }
  if (runtimes.size === 0) {
    throw new TypeError("withBackend: config.providers contains no BackendCredentials provider");
  }
  const reserved = Object.values(config.cookies ?? {})
    .map((cookie) => cookie?.name)
    .filter((name): name is string => typeof name === "string");
  const secrets = config.secret === undefined ? [] : [config.secret].flat();
  for (const runtime of runtimes.values()) {
    for (const name of reserved) runtime.reservedCookieNames.add(name);
    // One secret for the session and for what the coordinator shares (RedisCoordinator).
    if (secrets.length > 0) runtime.coordinator.adoptAuthSecret?.(secrets);
  }
  const app = config.callbacks ?? {};
  const appEvents = config.events ?? {};
  const callbacks: Callbacks = {
    ...app,
    async jwt(params: JwtParams) {
      const token = await backendJwt(runtimes, params, refresh);
      return app.jwt ? app.jwt({ ...params, token }) : token;
    },
    async session(params: SessionParams) {
      const session = backendSession(runtimes, params);
      return app.session ? app.session({ ...params, session } as SessionParams) : session;
    },
  };
  const events: NonNullable<AuthConfig["events"]> = {
    ...appEvents,
    async signOut(message) {
      const state = "token" in message ? message.token?.backend : undefined;
      const runtime = state && runtimes.get(state.provider);
      if (runtime && state) await logoutFromBackend(runtime, state);
      await appEvents.signOut?.(message);
    },
  };
  // Auth.js's session JWT format, keys derived once and decodes remembered (session-jwt.ts),
  // unless the app sets its own encode or decode (Auth.js's defaults then fill in, as without us).
  const ownCodec = config.jwt?.encode !== undefined || config.jwt?.decode !== undefined;
  const jwt = ownCodec
    ? config.jwt
    : { ...config.jwt, encode: sessionEncode, decode: rememberedDecode };
  return Object.defineProperty({ ...config, callbacks, events, jwt }, ORIGINAL, {
    value: config,
  });
}

async function backendJwt(
  runtimes: Map<string, Runtime>,
  params: JwtParams,
  refresh: RefreshMode,
): Promise<JWT> {
  const { token, user, account } = params;
  if (user && account) {
    // The sign-in hand-off: `authorize` (provider.ts) left the backend state under this `user`
    // object; move it into the session token. The WeakMap entry goes with the request.
    const runtime = runtimes.get(account.provider);
    const state = runtime?.pendingSignIns.get(user);
    if (!runtime || !state) return token;
    runtime.pendingSignIns.delete(user);
    return { ...token, sub: state.user.id, backend: state };
  }
  const state = token.backend;
  const runtime = state && runtimes.get(state.provider);
  if (!runtime || !state) return token;
  const next = await refreshIfNeeded(runtime, state, refresh);
  return next === state ? token : { ...token, backend: next };
}

function backendSession(runtimes: Map<string, Runtime>, params: SessionParams): Session {
  const { session } = params;
  const token = (params as { token?: JWT }).token;
  const state: BackendTokenState | undefined = token?.backend;
  const runtime = state && runtimes.get(state.provider);
  if (!runtime || !state) return session;
  const result: Session = {
    ...session,
    user: { ...session.user, ...state.user },
  };
  if (state.error) result.error = state.error;
  if (!isEnded(state)) {
    if (state.accessTokenExpiresAt !== undefined) {
      result.accessTokenExpiresAt = state.accessTokenExpiresAt;
    }
    if (runtime.options.exposeAccessToken) {
      const accessToken = accessTokenOf(runtime, state);
      if (accessToken) result.accessToken = accessToken;
    }
  }
  return result;
}
