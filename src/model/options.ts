import type { CredentialInput } from "@auth/core/providers/credentials";
import { nonEmptyString, nonNegative, optionalFunction, positive } from "../lib/option-checks.js";
import type { RefreshCoordinator } from "./coordinator.js";
import type { BackendEvents } from "./events.js";
import { type OAuth2Options, withOAuth2 } from "./oauth2.js";
import type { BackendUser, MapUserContext } from "./types.js";

/** An HTTP endpoint of the backend: a path (resolved against `baseUrl`) or a path with a method. */
export type EndpointOption =
  | string
  | {
      /** Path (or absolute URL on the same backend) of the endpoint. */
      path: string;
      /** HTTP method. @default "POST" for login, refresh and logout, "GET" for profile */
      method?: string;
      /**
       * Extra request headers sent with every call to this endpoint. An `Authorization` header
       * given here (e.g. OAuth 2.0 client authentication) replaces the Bearer access token.
       * @default {}
       */
      headers?: Record<string, string>;
      /**
       * How the request body is encoded: `"json"` (`application/json`) or `"form"`
       * (`application/x-www-form-urlencoded`, as RFC 6749 token endpoints expect).
       * @default "json"
       */
      encoding?: BodyEncoding;
      /**
       * Fixed fields added to every request body of this endpoint, e.g. `{ mode: "session" }` for
       * a backend whose refresh and logout need them. The body builders' fields win over these.
       * @default {}
       */
      fields?: Record<string, string | number | boolean>;
    };

/** How a request body is encoded. */
export type BodyEncoding = "json" | "form";

/**
 * Where the backend puts a token. `body` is a dot path into the JSON response (`"data.accessToken"`);
 * an array lists several paths, tried in order. `cookie` is the name of a `Set-Cookie` cookie.
 * When both are given the body is tried first.
 */
export interface TokenLocation {
  /** Dot path(s) into the JSON body, e.g. `"accessToken"` or `["data.access_token"]`. @default none */
  body?: string | readonly string[];
  /** Name of the `Set-Cookie` cookie that carries the token, e.g. `"refresh_token"`. @default none */
  cookie?: string;
}

/**
 * How to learn when a token expires.
 *
 * - `"auto"`: the token's own JWT `exp` claim, else a relative field (`expiresIn`, `expires_in`,
 *   `refreshExpiresIn`, …), else an absolute field (`expiresAt`, `expires_at`, seconds or
 *   milliseconds since the epoch), else the token cookie's `Max-Age`/`Expires`.
 * - `"jwt"`: only the JWT `exp` claim.
 * - `{ expiresIn: "path", unit? }`: a field holding the time left, in `unit` (`"seconds"` by
 *   default, or `"milliseconds"`).
 * - `{ expiresAt: "path" }`: a field holding an absolute time, seconds or milliseconds since the
 *   epoch (values above 10^11 are read as milliseconds).
 * - `{ lifetimeSeconds: n }`: a fixed lifetime counted from the moment the token was received.
 */
export type ExpiryOption =
  | "auto"
  | "jwt"
  | { expiresIn: string; unit?: "seconds" | "milliseconds" }
  | { expiresAt: string }
  | { lifetimeSeconds: number };

/** How the refresh request carries the refresh token. */
export type RefreshTokenTransport =
  /** JSON body `{ [field]: refreshToken }`. */
  | { body: string }
  /** `Authorization: Bearer <refresh token>`. */
  | "bearer"
  /** Only the stored backend cookies (the refresh token lives in one of them). */
  | "cookie";

/** A minimal logger. Messages never contain tokens or cookie values. */
export interface BackendLogger {
  /** Something went wrong that the package handled (transient failure, refused cookie, …). */
  warn(message: string): void;
  /** A misconfiguration or an unexpected answer; `error` carries a classified cause when known. */
  error(message: string, error?: unknown): void;
}

/** Options of {@link BackendCredentials}. Only `baseUrl` is required. */
export interface BackendCredentialsOptions {
  /** Provider id, used in `signIn(id)` and the callback URL. @default "backend" */
  id?: string;
  /** Provider name shown on Auth.js's built-in sign-in page. @default "Backend" */
  name?: string;
  /** Base URL of the backend API, e.g. `"https://api.example.com"`. Required. */
  baseUrl: string | URL;
  /** Backend endpoints. @default login `/auth/login`, refresh `/auth/refresh`, no logout, no profile */
  endpoints?: {
    /** Login endpoint; receives the credentials as JSON. @default "/auth/login" (POST) */
    login?: EndpointOption;
    /** Refresh endpoint, or `false` when the backend has none (the session ends when the access token expires). @default "/auth/refresh" (POST) */
    refresh?: EndpointOption | false;
    /**
     * Logout/revoke endpoint called on sign-out, so that sign-out ends the backend session (the
     * refresh token and cookies of a copied session cookie stop working). Without it sign-out
     * only deletes our cookies: a warning is logged once at start-up while refresh is enabled.
     * `false` says "the backend has none" and silences the warning.
     * @default none (warned)
     */
    logout?: EndpointOption | false;
    /** Profile endpoint (`/users/me`) read after login with the new access token, or `false` to take the profile from the login response or the access token's claims. @default false */
    profile?: EndpointOption | false;
  };
  /**
   * Fields of the sign-in form (Auth.js `credentials`). Every field is sent to the login endpoint
   * under the same name unless `loginBody` says otherwise.
   * @default { email: { label: "Email", type: "email" }, password: { label: "Password", type: "password" } }
   */
  credentials?: Record<string, CredentialInput>;
  /**
   * Builds the JSON body of the login request from the submitted form fields (only the fields
   * declared in `credentials` are passed). @default the declared fields as they are
   */
  loginBody?: (credentials: Record<string, string>) => unknown;
  /**
   * Builds the refresh request's body from the refresh token (`undefined` when it lives in a
   * cookie). Added to `endpoints.refresh.fields`.
   * @default `{ [field]: refreshToken }` with `refreshTokenTransport: { body: field }`, else no body
   */
  refreshBody?: (refreshToken: string | undefined) => Record<string, unknown> | undefined;
  /**
   * Builds the logout request's body from the refresh token (`undefined` when it lives in a
   * cookie). Added to `endpoints.logout.fields`.
   * @default like `refreshBody`
   */
  logoutBody?: (refreshToken: string | undefined) => Record<string, unknown> | undefined;
  /**
   * An RFC 6749 token endpoint (Keycloak's direct grant, `@node-oauth/oauth2-server`, in-house
   * OAuth 2.0 servers): sign-in with the password grant, refresh with the refresh_token grant
   * (both form-encoded, with client authentication), RFC 7009 revocation at sign-out, the standard
   * response fields (`access_token`, `refresh_token`, `expires_in`). Fills in `endpoints.login`,
   * `endpoints.refresh`, `endpoints.logout`, the bodies, `tokens` and `credentials` (`username`,
   * `password`); options you give yourself win. See docs/backends.md.
   * @default none
   */
  oauth2?: OAuth2Options;
  /** Where the tokens are in login and refresh responses. @default see each token */
  tokens?: {
    /** @default { body: ["accessToken", "access_token", "token"] } */
    accessToken?: TokenLocation;
    /** @default { body: ["refreshToken", "refresh_token"] } */
    refreshToken?: TokenLocation;
  };
  /** How to learn token expiry (see {@link ExpiryOption}). @default `"auto"` for both */
  expiry?: {
    /** @default "auto" */
    accessToken?: ExpiryOption;
    /** Refresh-token expiry is optional: when unknown, the backend decides. @default "auto" */
    refreshToken?: ExpiryOption;
  };
  /**
   * How the refresh request sends the refresh token. Stored backend cookies are always sent too.
   * @default "cookie" when `tokens.refreshToken` has only a `cookie`, else `{ body: <last segment of its first body path> }` (`"refreshToken"` by default)
   */
  refreshTokenTransport?: RefreshTokenTransport;
  /**
   * Refresh this many seconds before the access token expires. Capped at half the token's
   * lifetime, so short-lived tokens are not refreshed on every request.
   * @default 60
   */
  refreshBufferSeconds?: number;
  /**
   * Differences between the backend's clock and ours up to this many seconds are ignored; larger
   * ones are measured (JWT `iat`, else the response `Date` header) and corrected for.
   * @default 10
   */
  clockToleranceSeconds?: number;
  /**
   * For this many seconds after a rotation, a request that still carries the old refresh token
   * (another tab, a request in flight) receives the already-rotated tokens instead of presenting
   * a retired token to the backend. It is also what a copied cookie buys: a replay within the
   * window follows the session without tripping the backend's reuse detection (README,
   * Security). The default is the shortest that keeps the browser and soak suites free of reuse
   * with a margin: the soak needs 2 s (1 s: 55 reuses in 200 sessions).
   * @default 5
   */
  gracePeriodSeconds?: number;
  /**
   * How long a request waits for a backend call, in milliseconds. For a refresh this ends the
   * wait, not the refresh: the user stays signed in (`RefreshUnavailable`) and the backend call
   * goes on for up to `lateAnswerLimitMs` more (see there).
   * @default 10000
   */
  timeoutMs?: number;
  /**
   * How long after `timeoutMs` a refresh's backend call may still answer, in milliseconds. A
   * refresh we stopped waiting for has often rotated at the backend already; abandoning it would
   * make the next request present the retired refresh token, which a strict backend treats as
   * theft and answers by revoking the session. Until the call answers (or this limit passes) no
   * second refresh of the same token starts: later requests join it, and when it answers with a
   * rotation, the next request carrying the old token receives the new tokens without a backend
   * call. A coordinator's lock (`RedisCoordinator`) is held for as long. `0` abandons the call at
   * `timeoutMs`.
   * @default 20000
   */
  lateAnswerLimitMs?: number;
  /**
   * Maps the profile (the profile endpoint's body, else the login response) to the user. The
   * second argument carries the access token's decoded claims and, with a profile endpoint, the
   * login response.
   * @default the built-in mapping: `id` (from `id`, `sub`, `user_id`, `userId`, `_id`), `name`
   * (`name`, else given/family or first/last names, else `username`), `email`, `image`, `roles`
   * (`roles`, `role`, `groups`: strings, `{ name }` objects, arrays of them), read from `user`,
   * `data.user`, `data` or the body, the access token's claims filling in; plus `profileFields`
   */
  mapUser?: (data: unknown, context: MapUserContext) => BackendUser | null | undefined;
  /**
   * Extra profile fields (dot paths) the built-in mapping keeps in the session and exposes on
   * `session.user` (the last path segment names it), e.g. `["department", "org.name"]`. Nothing
   * else beyond `id`, `name`, `email`, `image` and `roles` is kept: profiles often carry internal
   * or sensitive fields. Type them with `BackendUserExtras` (README).
   * @default []
   */
  profileFields?: readonly string[];
  /** Dot path of the roles in the profile (or the access token's claims), e.g. `"realm_access.roles"`. @default `roles`, else `role`, else `groups` */
  rolesPath?: string;
  /** Dot path of the display name, e.g. `"profile.displayName"`. @default `name`, else given/family or first/last names, else `username` */
  namePath?: string;
  /**
   * Re-read the profile (`endpoints.profile`) when a refresh happens and the last read is at least
   * this many seconds old, and re-apply `allowedRoles` / `authorizeUser`: a user no longer allowed,
   * or a profile endpoint answering 401/403 to the freshly refreshed token, ends the session with
   * `session.error = "AccessRevoked"` (and logs out at the backend). A transient failure keeps the
   * old profile. `0` re-reads at every refresh; `false` never.
   * @default 300 (with a profile endpoint)
   */
  profileRevalidationSeconds?: number | false;
  /** Only users with at least one of these roles may sign in. @default undefined (everyone) */
  allowedRoles?: readonly string[];
  /** A custom sign-in rule, run after `allowedRoles`. Return `false` to refuse. @default undefined */
  authorizeUser?: (user: BackendUser) => boolean | Promise<boolean>;
  /** Put the access token on the session object (visible to client JavaScript through `useSession`). @default false */
  exposeAccessToken?: boolean;
  /**
   * How long a transient refresh failure without `Retry-After` (network error, timeout, 5xx) is
   * shared before the next attempt, in seconds.
   * @default 2
   */
  transientBackoffSeconds?: number;
  /**
   * Names of the backend cookies to store (and send back, and mirror). Others are not stored. The
   * cookies that carry the access or refresh token (`tokens.*.cookie`) are always kept.
   * @default every cookie the backend sets, within `sessionBudgetBytes`
   */
  keepCookies?: readonly string[];
  /**
   * Most bytes the stored session may take (the JSON of tokens, backend cookies and profile, plus
   * the `name`, `email` and `image` Auth.js copies), in bytes. What would exceed it is not stored,
   * with a warning naming it: new backend cookies first, then the largest backend cookies and
   * extra profile fields. A sign-in whose tokens alone exceed it fails with
   * `BackendResponseInvalid`. The default keeps the encrypted session cookie within two 4 KB
   * chunks, so a backend cannot grow it until requests are refused (HTTP 431).
   * @default 5120
   */
  sessionBudgetBytes?: number;
  /** Where single flight and the grace cache live. @default an in-process coordinator shared by every provider of this process */
  coordination?: RefreshCoordinator;
  /** Injectable `fetch`, e.g. for a proxy agent or tests. @default globalThis.fetch */
  fetch?: typeof globalThis.fetch;
  /**
   * Injectable clock, in milliseconds since the epoch: token expiries, refresh timing, backend
   * cookie expiry. A coordinator keeps its own clock for how long it shares outcomes: give a
   * `MemoryCoordinator` or `RedisCoordinator` you configure the same `now`.
   * @default Date.now
   */
  now?: () => number;
  /** Where warnings go. @default console with a `[authjs-backend-credentials]` prefix */
  logger?: BackendLogger;
  /**
   * Callbacks for operators: refresh succeeded or failed, late answer recovered, session ended,
   * backend logout failed (see {@link BackendEvents}). Never given a token or cookie value; a
   * handler that throws never breaks a request.
   * @default {}
   */
  events?: BackendEvents;
}

const OWNER = "BackendCredentials";

/** @internal Fully resolved options. */
export interface ResolvedOptions {
  id: string;
  name: string;
  baseUrl: URL;
  login: ResolvedEndpoint;
  refresh: ResolvedEndpoint | null;
  logout: ResolvedEndpoint | null;
  /** `true` when `endpoints.logout` was left unset (not `false`): sign-out revokes nothing. */
  logoutUnset: boolean;
  profile: ResolvedEndpoint | null;
  credentials: Record<string, CredentialInput>;
  loginBody: (credentials: Record<string, string>) => unknown;
  refreshBody: (refreshToken: string | undefined) => Record<string, unknown> | undefined;
  logoutBody: (refreshToken: string | undefined) => Record<string, unknown> | undefined;
  /**
   * `true` when neither `refreshTokenTransport` nor the bodies are configured: the refresh token
   * goes back in the body field it came in.
   */
  echoRefreshField: boolean;
  transientBackoffSeconds: number;
  accessToken: ResolvedTokenLocation;
  refreshToken: ResolvedTokenLocation;
  accessTokenExpiry: ExpiryOption;
  refreshTokenExpiry: ExpiryOption;
  refreshTokenTransport: RefreshTokenTransport;
  refreshBufferSeconds: number;
  clockToleranceSeconds: number;
  gracePeriodSeconds: number;
  timeoutMs: number;
  lateAnswerLimitMs: number;
  mapUser: ((data: unknown, context: MapUserContext) => BackendUser | null | undefined) | undefined;
  profileFields: readonly string[];
  rolesPath: string | undefined;
  namePath: string | undefined;
  /** In seconds; `false` when the profile is never re-read. */
  profileRevalidationSeconds: number | false;
  allowedRoles: readonly string[] | undefined;
  authorizeUser: ((user: BackendUser) => boolean | Promise<boolean>) | undefined;
  exposeAccessToken: boolean;
  keepCookies: readonly string[] | undefined;
  sessionBudgetBytes: number;
  coordination: RefreshCoordinator | undefined;
  fetch: typeof globalThis.fetch;
  now: () => number;
  logger: BackendLogger;
  events: BackendEvents;
}

/**
 * @internal The longest a refresh's backend call may run, in milliseconds: the request's wait
 * (`timeoutMs`) plus the time a late answer may still land (`lateAnswerLimitMs`).
 */
export function longestRefreshMs(
  options: Pick<ResolvedOptions, "timeoutMs" | "lateAnswerLimitMs">,
): number {
  return options.timeoutMs + options.lateAnswerLimitMs;
}

/** @internal */
export interface ResolvedEndpoint {
  url: URL;
  method: string;
  headers: Record<string, string>;
  encoding: BodyEncoding;
  fields: Record<string, string | number | boolean>;
}

/** @internal */
export interface ResolvedTokenLocation {
  body: readonly string[];
  cookie: string | undefined;
}

const defaultCredentials: Record<string, CredentialInput> = {
  email: { label: "Email", type: "email" },
  password: { label: "Password", type: "password" },
};

/** @internal The default logger: console, prefixed; messages never carry tokens. */
export const consoleLogger: BackendLogger = {
  warn: (message) => console.warn(`[authjs-backend-credentials] ${message}`),
  error: (message, error) =>
    console.error(
      `[authjs-backend-credentials] ${message}`,
      ...(error instanceof Error ? [`(${error.name}: ${error.message})`] : []),
    ),
};

/** @internal Validates options and fills in defaults; throws `TypeError` naming the bad option. */
export function resolveOptions(given: BackendCredentialsOptions): ResolvedOptions {
  if (typeof given !== "object" || given === null) {
    throw new TypeError("BackendCredentials: options must be an object");
  }
  const options = withOAuth2(given);
  const baseUrl = parseBaseUrl(options.baseUrl);
  const endpoints = options.endpoints ?? {};
  const tokens = options.tokens ?? {};
  const accessToken = resolveTokenLocation("tokens.accessToken", tokens.accessToken, {
    body: ["accessToken", "access_token", "token"],
  });
  const refreshToken = resolveTokenLocation("tokens.refreshToken", tokens.refreshToken, {
    body: ["refreshToken", "refresh_token"],
  });
  const credentials = options.credentials ?? defaultCredentials;
  if (typeof credentials !== "object" || Object.keys(credentials).length === 0) {
    throw new TypeError("BackendCredentials: option credentials must declare at least one field");
  }
  const fetchImpl = options.fetch ?? globalThis.fetch;
  if (typeof fetchImpl !== "function") {
    throw new TypeError("BackendCredentials: option fetch must be a function");
  }
  const now = options.now ?? Date.now;
  if (typeof now !== "function") {
    throw new TypeError("BackendCredentials: option now must be a function");
  }
  const transport = resolveTransport(options.refreshTokenTransport, refreshToken);
  const transportBody = (token: string | undefined) =>
    token && typeof transport === "object" ? { [transport.body]: token } : undefined;
  return {
    id: nonEmptyString(OWNER, "id", options.id ?? "backend"),
    name: nonEmptyString(OWNER, "name", options.name ?? "Backend"),
    baseUrl,
    login: resolveEndpoint("endpoints.login", baseUrl, endpoints.login ?? "/auth/login", "POST"),
    refresh: optionalEndpoint("endpoints.refresh", baseUrl, endpoints.refresh, "/auth/refresh"),
    logout: optionalEndpoint("endpoints.logout", baseUrl, endpoints.logout ?? false, ""),
    logoutUnset: endpoints.logout === undefined,
    profile: optionalEndpoint("endpoints.profile", baseUrl, endpoints.profile ?? false, "", "GET"),
    credentials,
    loginBody: optionalFunction(OWNER, "loginBody", options.loginBody) ?? ((fields) => fields),
    refreshBody: optionalFunction(OWNER, "refreshBody", options.refreshBody) ?? transportBody,
    logoutBody: optionalFunction(OWNER, "logoutBody", options.logoutBody) ?? transportBody,
    echoRefreshField:
      options.refreshTokenTransport === undefined &&
      options.refreshBody === undefined &&
      options.logoutBody === undefined &&
      typeof transport === "object",
    transientBackoffSeconds: nonNegative(
      OWNER,
      "transientBackoffSeconds",
      options.transientBackoffSeconds,
      2,
    ),
    accessToken,
    refreshToken,
    accessTokenExpiry: resolveExpiry("expiry.accessToken", options.expiry?.accessToken),
    refreshTokenExpiry: resolveExpiry("expiry.refreshToken", options.expiry?.refreshToken),
    refreshTokenTransport: transport,
    refreshBufferSeconds: nonNegative(
      OWNER,
      "refreshBufferSeconds",
      options.refreshBufferSeconds,
      60,
    ),
    clockToleranceSeconds: nonNegative(
      OWNER,
      "clockToleranceSeconds",
      options.clockToleranceSeconds,
      10,
    ),
    gracePeriodSeconds: nonNegative(OWNER, "gracePeriodSeconds", options.gracePeriodSeconds, 5),
    timeoutMs: positive(OWNER, "timeoutMs", options.timeoutMs, 10_000),
    lateAnswerLimitMs: nonNegative(OWNER, "lateAnswerLimitMs", options.lateAnswerLimitMs, 20_000),
    mapUser: optionalFunction(OWNER, "mapUser", options.mapUser),
    profileFields: resolveNames("profileFields", options.profileFields) ?? [],
    rolesPath:
      options.rolesPath === undefined
        ? undefined
        : nonEmptyString(OWNER, "rolesPath", options.rolesPath),
    namePath:
      options.namePath === undefined
        ? undefined
        : nonEmptyString(OWNER, "namePath", options.namePath),
    profileRevalidationSeconds:
      options.profileRevalidationSeconds === false ||
      endpoints.profile === undefined ||
      endpoints.profile === false
        ? false
        : nonNegative(OWNER, "profileRevalidationSeconds", options.profileRevalidationSeconds, 300),
    allowedRoles: resolveRoles(options.allowedRoles),
    authorizeUser: optionalFunction(OWNER, "authorizeUser", options.authorizeUser),
    exposeAccessToken: options.exposeAccessToken === true,
    keepCookies: resolveNames("keepCookies", options.keepCookies),
    sessionBudgetBytes: Math.floor(
      positive(OWNER, "sessionBudgetBytes", options.sessionBudgetBytes, 5120),
    ),
    coordination: options.coordination,
    fetch: fetchImpl,
    now,
    logger: options.logger ?? consoleLogger,
    events: resolveEvents(options.events),
  };
}

const EVENT_NAMES = [
  "refreshSucceeded",
  "refreshFailed",
  "lateAnswerRecovered",
  "sessionEnded",
  "logoutFailed",
] as const;

function resolveEvents(events: BackendEvents | undefined): BackendEvents {
  if (events === undefined) return {};
  if (typeof events !== "object" || events === null) {
    throw new TypeError("BackendCredentials: option events must be an object of callbacks");
  }
  for (const name of Object.keys(events)) {
    if (!(EVENT_NAMES as readonly string[]).includes(name)) {
      throw new TypeError(
        `BackendCredentials: option events.${name} is not an event (${EVENT_NAMES.join(", ")})`,
      );
    }
    optionalFunction(OWNER, `events.${name}`, events[name as keyof BackendEvents]);
  }
  return { ...events };
}

function parseBaseUrl(value: unknown): URL {
  if (typeof value !== "string" && !(value instanceof URL)) {
    throw new TypeError(
      "BackendCredentials: option baseUrl is required (e.g. 'http://127.0.0.1:4000')",
    );
  }
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new TypeError("BackendCredentials: option baseUrl is not a valid absolute URL");
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new TypeError("BackendCredentials: option baseUrl must use http: or https:");
  }
  if (!url.pathname.endsWith("/")) url.pathname += "/";
  return url;
}

function resolveEndpoint(
  name: string,
  baseUrl: URL,
  option: EndpointOption,
  defaultMethod: string,
): ResolvedEndpoint {
  const spec = typeof option === "string" ? { path: option } : option;
  if (typeof spec !== "object" || spec === null || typeof spec.path !== "string" || !spec.path) {
    throw new TypeError(`BackendCredentials: option ${name} must be a path or { path, method }`);
  }
  // "/auth/login" is resolved relative to the base URL's path, so a base of
  // "https://host/api/" gives "https://host/api/auth/login".
  const url = new URL(spec.path.replace(/^\/+/, ""), baseUrl);
  if (url.origin !== baseUrl.origin) {
    throw new TypeError(`BackendCredentials: option ${name} must stay on the baseUrl's origin`);
  }
  if (
    spec.headers !== undefined &&
    (typeof spec.headers !== "object" ||
      spec.headers === null ||
      Object.values(spec.headers).some((value) => typeof value !== "string"))
  ) {
    throw new TypeError(`BackendCredentials: option ${name}.headers must map names to strings`);
  }
  const method = (spec.method ?? defaultMethod).toUpperCase();
  if (!/^[A-Z]+$/.test(method)) {
    throw new TypeError(`BackendCredentials: option ${name}.method is not an HTTP method`);
  }
  const encoding = spec.encoding ?? "json";
  if (encoding !== "json" && encoding !== "form") {
    throw new TypeError(`BackendCredentials: option ${name}.encoding must be "json" or "form"`);
  }
  const fields = spec.fields ?? {};
  if (
    typeof fields !== "object" ||
    fields === null ||
    Object.values(fields).some((value) => !["string", "number", "boolean"].includes(typeof value))
  ) {
    throw new TypeError(
      `BackendCredentials: option ${name}.fields must map names to strings, numbers or booleans`,
    );
  }
  return { url, method, headers: { ...spec.headers }, encoding, fields: { ...fields } };
}

function optionalEndpoint(
  name: string,
  baseUrl: URL,
  option: EndpointOption | false | undefined,
  defaultPath: string,
  defaultMethod = "POST",
): ResolvedEndpoint | null {
  if (option === false) return null;
  return resolveEndpoint(name, baseUrl, option ?? defaultPath, defaultMethod);
}

function resolveTokenLocation(
  name: string,
  option: TokenLocation | undefined,
  fallback: { body: string[] },
): ResolvedTokenLocation {
  if (option === undefined) return { body: fallback.body, cookie: undefined };
  if (typeof option !== "object" || option === null) {
    throw new TypeError(`BackendCredentials: option ${name} must be { body?, cookie? }`);
  }
  const body = option.body === undefined ? [] : [option.body].flat();
  if (body.some((path) => typeof path !== "string" || path === "")) {
    throw new TypeError(
      `BackendCredentials: option ${name}.body must be a dot path or an array of them`,
    );
  }
  const cookie = option.cookie;
  if (
    cookie !== undefined &&
    (typeof cookie !== "string" || !/^[!#$%&'*+\-.^_`|~\w]+$/.test(cookie))
  ) {
    throw new TypeError(`BackendCredentials: option ${name}.cookie is not a valid cookie name`);
  }
  if (body.length === 0 && cookie === undefined) {
    throw new TypeError(`BackendCredentials: option ${name} needs a body path or a cookie name`);
  }
  return { body, cookie };
}

function resolveExpiry(name: string, option: ExpiryOption | undefined): ExpiryOption {
  if (option === undefined || option === "auto" || option === "jwt") return option ?? "auto";
  if (typeof option === "object" && option !== null) {
    if ("lifetimeSeconds" in option) {
      if (typeof option.lifetimeSeconds === "number" && option.lifetimeSeconds > 0) return option;
    } else if ("expiresIn" in option && typeof option.expiresIn === "string" && option.expiresIn) {
      if (
        option.unit === undefined ||
        option.unit === "seconds" ||
        option.unit === "milliseconds"
      ) {
        return option;
      }
    } else if ("expiresAt" in option && typeof option.expiresAt === "string" && option.expiresAt) {
      return option;
    }
  }
  throw new TypeError(
    `BackendCredentials: option ${name} must be "auto", "jwt", { expiresIn, unit? ("seconds" | "milliseconds") }, { expiresAt } or { lifetimeSeconds > 0 }`,
  );
}

function resolveTransport(
  option: RefreshTokenTransport | undefined,
  refreshToken: ResolvedTokenLocation,
): RefreshTokenTransport {
  if (option === undefined) {
    // The field the backend sends the token in is the likeliest name it expects it back under.
    const field = refreshToken.body[0]?.split(".").pop();
    return field ? { body: field } : "cookie";
  }
  if (option === "bearer" || option === "cookie") return option;
  if (
    typeof option === "object" &&
    option !== null &&
    typeof option.body === "string" &&
    option.body
  ) {
    return option;
  }
  throw new TypeError(
    'BackendCredentials: option refreshTokenTransport must be "bearer", "cookie" or { body: "field" }',
  );
}

function resolveRoles(roles: readonly string[] | undefined): readonly string[] | undefined {
  return resolveNames("allowedRoles", roles);
}

function resolveNames(
  name: string,
  names: readonly string[] | undefined,
): readonly string[] | undefined {
  if (names === undefined) return undefined;
  if (!Array.isArray(names) || names.some((item) => typeof item !== "string")) {
    throw new TypeError(`BackendCredentials: option ${name} must be an array of strings`);
  }
  return names;
}
