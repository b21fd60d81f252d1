/**
 * Type declarations for the reference backend (`server.mjs`).
 * Hand-written; keep in sync with the implementation.
 */
import type { Server } from "node:http";

/** Where login/refresh put the tokens. */
export type TokenPlacement = "body" | "cookie" | "mixed";
/** `nested` wraps the success payload as `{ data: payload }`. */
export type BodyShape = "flat" | "nested";
/** How the access token's expiry is communicated. */
export type ExpiryStyle =
  | "jwt"
  | "expires_in"
  | "expires_in_ms"
  | "expires_at"
  | "expires_at_ms"
  | "none";
/**
 * Body field names. `camel`: accessToken, refreshToken, expiresIn, expiresAt, refreshExpiresIn;
 * `snake`: access_token, refresh_token, expires_in, expires_at, refresh_expires_in.
 */
export type FieldCase = "camel" | "snake";
/** Counted / fault-injectable endpoints. */
export type Endpoint = "login" | "refresh" | "logout" | "me" | "items";
/** `"*"` matches any of the endpoints above (endpoint-specific faults are taken first). */
export type FaultEndpoint = Endpoint | "*";

export interface BackendUser {
  id: string;
  email: string;
  password: string;
  name: string;
  roles: readonly string[];
}

/** Public user as returned in `user` of login/refresh responses. */
export interface PublicUser {
  id: string;
  email: string;
  name: string;
  roles: string[];
}

export interface BackendOptions {
  /** Default "127.0.0.1". */
  host?: string;
  /** Default 0 (ephemeral port). */
  port?: number;
  /** Default 900. */
  accessTokenTtlSeconds?: number;
  /** Absolute lifetime of a token family (from login). Default 86400. */
  refreshTokenTtlSeconds?: number;
  /** Default "mixed". */
  tokenPlacement?: TokenPlacement;
  /** Default "flat". */
  bodyShape?: BodyShape;
  /** Default "jwt". */
  expiryStyle?: ExpiryStyle;
  /** Default "camel". */
  fieldCase?: FieldCase;
  /** Include `refreshExpiresIn` in login/refresh bodies. Default true. */
  includeRefreshExpiry?: boolean;
  /** Backend clock = real time + this offset (token times and the `Date` header). Default 0. */
  clockSkewSeconds?: number;
  /** Default: {@link DEFAULT_USERS}. Copied. */
  users?: ReadonlyArray<Readonly<BackendUser>>;
  /** Fixed delay before answering every (non-control) request. Default 0. */
  delayMs?: number;
  /** Enable the `/__control/*` HTTP API. Default false. */
  control?: boolean;
  /** Login also sets `backend_sid` (HttpOnly) and `theme=dark` cookies. Default true. */
  sessionCookie?: boolean;
  /** `/users/me` and `/api/items` also require a matching `backend_sid` cookie. Default false. */
  requireSessionCookie?: boolean;
  /**
   * Logout accepts only a valid (unexpired, unrevoked) access token as Bearer and answers 401
   * otherwise; refresh tokens and cookies are ignored there. Default false.
   */
  logoutRequiresAccessToken?: boolean;
  /**
   * Hostile or careless cookies: `login` extra cookies at login and `perRefresh` new ones on every
   * refresh, each `bytes` long (HttpOnly, Path=/). Default `{ login: 0, perRefresh: 0, bytes: 1024 }`.
   */
  extraCookies?: ExtraCookies;
  /**
   * Fields the body of an endpoint must carry (e.g. `{ refresh: { mode: "session" } }`); without
   * them it answers `400 invalid_request`. Default `{}`.
   */
  requiredFields?: Partial<Record<"login" | "refresh" | "logout", Record<string, string>>>;
  /** POST bodies must be `application/x-www-form-urlencoded`; others answer 415. Default false. */
  formOnly?: boolean;
  /**
   * Routes live under a trailing slash (`/auth/login/`); the path without it answers 301 to it,
   * like Django's APPEND_SLASH. Default false.
   */
  trailingSlash?: boolean;
  /**
   * Send a `Date` header. `false`: none at all (the library then has no backend clock to correct
   * skew with but the JWT's `iat`). Default true.
   */
  sendDateHeader?: boolean;
  /**
   * `"absolute"`: one refresh expiry per token family, fixed at login (`refreshTokenTtlSeconds`
   * from login). `"sliding"`: every rotation grants the new refresh token a fresh
   * `refreshTokenTtlSeconds`. Default "absolute".
   */
  refreshExpiry?: "absolute" | "sliding";
  /**
   * What logout revokes by. `"any"`: the refresh token in the body, a Bearer token, the
   * `refresh_token` / `access_token` / `backend_sid` cookies. `"body"`: only a token in the body
   * (`refreshToken` or `refresh_token`; an access token there is recognised too). Has no effect
   * with `logoutRequiresAccessToken`, which takes precedence. Default "any".
   */
  logoutRevokes?: "any" | "body";
  /**
   * The answer to a refresh token that is unknown, reused, revoked or expired: any status
   * (200-599) and an optional body (JSON value, a string as text/plain, or none). Default
   * `{ status: 401, body: { error: "invalid_grant" } }`.
   */
  refreshRejection?: RefreshRejection;
}

export interface RefreshRejection {
  status: number;
  body?: unknown;
}

export interface ExtraCookies {
  login: number;
  perRefresh: number;
  bytes: number;
}

/** Effective options. Mutable: changes apply to subsequent requests (except host/port). */
export interface ResolvedOptions {
  readonly host: string;
  /** The port actually bound. */
  readonly port: number;
  accessTokenTtlSeconds: number;
  refreshTokenTtlSeconds: number;
  tokenPlacement: TokenPlacement;
  bodyShape: BodyShape;
  expiryStyle: ExpiryStyle;
  fieldCase: FieldCase;
  includeRefreshExpiry: boolean;
  clockSkewSeconds: number;
  users: BackendUser[];
  delayMs: number;
  control: boolean;
  sessionCookie: boolean;
  requireSessionCookie: boolean;
  logoutRequiresAccessToken: boolean;
  extraCookies: ExtraCookies;
  requiredFields: Partial<Record<"login" | "refresh" | "logout", Record<string, string>>>;
  formOnly: boolean;
  trailingSlash: boolean;
  sendDateHeader: boolean;
  refreshExpiry: "absolute" | "sliding";
  logoutRevokes: "any" | "body";
  refreshRejection: RefreshRejection;
}

export interface BackendStats {
  /** Requests reaching POST /auth/login (counted before faults). */
  login: number;
  /** Login answers with status 400 or 401. */
  loginFailed: number;
  /** Requests reaching POST /auth/refresh (counted before faults). */
  refresh: number;
  /** Rotations performed (also when the response is then dropped). */
  refreshSucceeded: number;
  /** Refresh answers with status 400 or 401 (including injected ones). */
  refreshRejected: number;
  /** Retired refresh tokens presented again (each revokes its family). */
  reuseDetected: number;
  logout: number;
  me: number;
  items: number;
  /** All non-control requests, including 404s. */
  requests: number;
}

export interface Fault {
  /** Answer with this status (default 500 when only `body` is set). */
  status?: number;
  /** Response body (default `{ error: "injected" }`); strings are sent as text/plain. */
  body?: unknown;
  /** Extra response headers (e.g. Retry-After); also applied to normal responses. */
  headers?: Record<string, string>;
  /** Wait this long first; on its own the request is then processed normally. */
  delayMs?: number;
  /** Destroy the socket without answering. */
  drop?: boolean;
  /**
   * Process the request normally (for refresh: perform the rotation), then drop the
   * connection instead of answering — a lost response.
   */
  afterRotation?: boolean;
  /**
   * Process the request normally (for refresh: perform the rotation), then wait this long before
   * answering — a late answer.
   */
  answerDelayMs?: number;
  /** Number of matching requests this fault applies to. Default 1. */
  times?: number;
}

/** A refresh/logout request as seen by the backend. */
export interface RecordedRequest {
  endpoint: Endpoint;
  method: string;
  /** Request target including the query string. */
  path: string;
  /** Lower-case header names. */
  headers: Record<string, string>;
  /** Parsed JSON (or form) body; undefined when empty; the raw text when unparseable. */
  body: unknown;
  cookies: Record<string, string>;
}

export interface Backend {
  /** e.g. "http://127.0.0.1:41234" */
  url: string;
  port: number;
  server: Server;
  options: ResolvedOptions;
  /** Live counters (reset in place by {@link Backend.resetStats}). */
  stats: BackendStats;
  /** Last 20 refresh/logout requests, oldest first. */
  requests: RecordedRequest[];
  /** Queue a fault for the next `fault.times` (default 1) requests to `endpoint`. */
  injectFault(endpoint: FaultEndpoint, fault: Fault): void;
  clearFaults(): void;
  /** Revoke every token family of the user (by email), or all. Returns the family count. */
  revokeAll(email?: string): number;
  /** Expire the refresh tokens of the user (by email), or all, now. Returns the family count. */
  expireRefreshTokens(email?: string): number;
  /** Zero all counters and clear `requests`. */
  resetStats(): void;
  /** Close the server and every open connection. Idempotent. */
  close(): Promise<void>;
}

/** The default accounts (deeply frozen). */
export declare const DEFAULT_USERS: ReadonlyArray<Readonly<BackendUser>>;

/** Start the backend; resolves once it is listening. Throws TypeError on invalid options. */
export declare function startBackend(options?: BackendOptions): Promise<Backend>;

/**
 * Options from env vars as used by the CLI: PORT (default 4000), HOST, ACCESS_TOKEN_TTL,
 * REFRESH_TOKEN_TTL, TOKEN_PLACEMENT, EXPIRY_STYLE, BODY_SHAPE, FIELD_CASE,
 * CLOCK_SKEW_SECONDS, DELAY_MS, CONTROL=1, REQUIRE_SESSION_COOKIE=1,
 * LOGOUT_REQUIRES_ACCESS_TOKEN=1.
 */
export declare function optionsFromEnv(env?: NodeJS.ProcessEnv): BackendOptions;
