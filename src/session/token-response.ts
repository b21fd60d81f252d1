import { jwtDecode } from "jwt-decode";
import { isRecord, parentOf, readPath } from "../lib/json-path.js";
import { BackendAuthError } from "../model/errors.js";
import type { ExpiryOption, ResolvedOptions, ResolvedTokenLocation } from "../model/options.js";
import type { StoredCookie } from "../model/types.js";
import { type BackendResponse, INVALID_JSON, isHeaderSafe } from "./backend-http.js";
import { type CookieChanges, readSetCookies } from "./cookie-jar.js";
import { warnOnce } from "./warn-once.js";

/** @internal Tokens read from a login or refresh response. Times are seconds on our clock. */
export interface TokenSet {
  /** Present when the token came in the body; cookie-borne tokens are in `cookies.set`. */
  accessToken?: string;
  accessTokenExpiresAt: number;
  receivedAt: number;
  refreshToken?: string;
  refreshTokenExpiresAt?: number;
  /** The body field the refresh token was read from (its last path segment). */
  refreshTokenField?: string;
  cookies: Pick<CookieChanges, "set" | "deleted">;
}

const RELATIVE_FIELDS = {
  access: ["expiresIn", "expires_in", "accessTokenExpiresIn", "access_token_expires_in"],
  refresh: [
    "refreshExpiresIn",
    "refresh_expires_in",
    "refreshTokenExpiresIn",
    "refresh_token_expires_in",
  ],
} as const;
const ABSOLUTE_FIELDS = {
  access: ["expiresAt", "expires_at", "accessTokenExpiresAt", "access_token_expires_at"],
  refresh: [
    "refreshExpiresAt",
    "refresh_expires_at",
    "refreshTokenExpiresAt",
    "refresh_token_expires_at",
  ],
} as const;

type Kind = keyof typeof RELATIVE_FIELDS;

/**
 * @internal Reads tokens, expiries and cookie changes from a 2xx login or refresh response.
 * `required.refreshToken` is false for refresh responses (the old token is kept when none comes).
 * Throws `BackendResponseInvalid` naming the missing piece.
 */
export function readTokenResponse(
  options: ResolvedOptions,
  response: BackendResponse,
  nowSeconds: number,
  reservedCookieNames: ReadonlySet<string>,
  onCookieProblem: (message: string) => void,
): TokenSet {
  const { body } = response;
  const label = `${response.url.pathname} response`;
  const changes = readSetCookies(response.headers, response.url, nowSeconds, reservedCookieNames);
  for (const { name, reason } of changes.rejected) {
    onCookieProblem(
      `ignored backend cookie ${name ? `"${name}"` : "(unprintable name)"}: ${reason}`,
    );
  }
  for (const name of changes.oversized) {
    onCookieProblem(`backend cookie "${name}" exceeds 4096 bytes; browsers would drop it`);
  }
  if (body === INVALID_JSON) {
    throw new BackendAuthError("BackendResponseInvalid", `${label} is not JSON`, {
      status: response.status,
    });
  }
  // The backend's clock, from its Date header; NaN without a readable one.
  const backendNowSeconds = Date.parse(response.headers.get("date") ?? "") / 1000;
  const clock = {
    nowSeconds,
    offset: clockOffset(backendNowSeconds, nowSeconds, options.clockToleranceSeconds),
    tolerance: options.clockToleranceSeconds,
    dated: Number.isFinite(backendNowSeconds),
    onMismatch: (kind: Kind, configured: number, fromJwt: number) =>
      warnOnce(
        options,
        `expiry-mismatch-${kind}`,
        `${label}: the configured expiry.${kind}Token gives ${configured} s, the token's own "exp" ${fromJwt} s; check the field's unit (expiresIn: { unit: "milliseconds" }?) or use "jwt"`,
      ),
  };
  const access = findToken(body, changes.set, options.accessToken);
  if (!access) {
    throw new BackendAuthError(
      "BackendResponseInvalid",
      `${label} has no access token at ${describeLocation(options.accessToken)}`,
      { status: response.status },
    );
  }
  const refresh = findToken(body, changes.set, options.refreshToken);
  for (const [name, token] of [
    ["access", access],
    ["refresh", refresh],
  ] as const) {
    if (token && !isHeaderSafe(token.value)) {
      // It could never be sent back (Bearer header, cookie); Node's error would quote it.
      throw new BackendAuthError(
        "BackendResponseInvalid",
        `${label}: the ${name} token is not a valid header value (only visible ASCII is accepted)`,
        { status: response.status },
      );
    }
  }
  const accessTokenExpiresAt = expiryOf("access", options.accessTokenExpiry, access, body, clock);
  if (accessTokenExpiresAt === undefined) {
    throw new BackendAuthError(
      "BackendResponseInvalid",
      `${label}: cannot tell when the access token expires (it is not a JWT with "exp" and no expiry field or cookie Max-Age was found); set expiry.accessToken, e.g. { lifetimeSeconds: 900 }`,
      { status: response.status },
    );
  }
  const tokens: TokenSet = {
    accessTokenExpiresAt,
    receivedAt: nowSeconds,
    cookies: { set: changes.set, deleted: changes.deleted },
  };
  if (access.from === "body") tokens.accessToken = access.value;
  if (refresh) {
    if (refresh.from === "body") {
      tokens.refreshToken = refresh.value;
      const field = refresh.path?.split(".").pop();
      if (field) tokens.refreshTokenField = field;
    }
    const refreshTokenExpiresAt = expiryOf(
      "refresh",
      options.refreshTokenExpiry,
      refresh,
      body,
      clock,
    );
    if (refreshTokenExpiresAt !== undefined) tokens.refreshTokenExpiresAt = refreshTokenExpiresAt;
  }
  return tokens;
}

/** Our clock, the backend's offset from it, and where a configured expiry that disagrees goes. */
interface ExpiryClock {
  nowSeconds: number;
  offset: number;
  tolerance: number;
  dated: boolean;
  /** A configured expiry disagrees with the token's own `exp` by more than the tolerance. */
  onMismatch?: (kind: Kind, configuredSeconds: number, jwtSeconds: number) => void;
}

interface FoundToken {
  value: string;
  from: "body" | "cookie";
  /** The body path it was read from. */
  path?: string;
  /** Parent object of the body field (where sibling expiry fields are looked up first). */
  parent: unknown;
  cookie?: StoredCookie;
}

function findToken(
  body: unknown,
  cookies: readonly StoredCookie[],
  location: ResolvedTokenLocation,
): FoundToken | undefined {
  for (const path of location.body) {
    const value = readPath(body, path);
    if (typeof value === "string" && value !== "") {
      return { value, from: "body", parent: parentOf(body, path), path };
    }
  }
  if (location.cookie) {
    const cookie = cookies.find(
      (candidate) => candidate.name === location.cookie && candidate.value,
    );
    if (cookie) return { value: cookie.value, from: "cookie", parent: body, cookie };
  }
  return undefined;
}

function expiryOf(
  kind: Kind,
  rule: ExpiryOption,
  token: FoundToken,
  body: unknown,
  clock: ExpiryClock,
): number | undefined {
  const { nowSeconds, offset } = clock;
  if (typeof rule === "object") {
    const configured =
      "lifetimeSeconds" in rule
        ? nowSeconds + rule.lifetimeSeconds
        : "expiresIn" in rule
          ? relative(readPath(body, rule.expiresIn), nowSeconds, rule.unit)
          : absolute(readPath(body, rule.expiresAt), offset);
    const fromJwt = jwtExpiry(token.value, clock);
    if (configured !== undefined && fromJwt !== undefined) {
      const gap = Math.abs(configured - fromJwt);
      if (gap > clock.tolerance)
        clock.onMismatch?.(
          kind,
          Math.round(configured - nowSeconds),
          Math.round(fromJwt - nowSeconds),
        );
    }
    return configured;
  }
  const fromJwt = jwtExpiry(token.value, clock);
  if (rule === "jwt" || fromJwt !== undefined) return fromJwt;
  const scopes = token.parent === body ? [body] : [token.parent, body];
  for (const scope of scopes) {
    if (!isRecord(scope)) continue;
    for (const field of RELATIVE_FIELDS[kind]) {
      const value = relative(scope[field], nowSeconds);
      if (value !== undefined) return value;
    }
    for (const field of ABSOLUTE_FIELDS[kind]) {
      const value = absolute(scope[field], offset);
      if (value !== undefined) return value;
    }
  }
  return token.cookie?.expiresAt;
}

/**
 * JWT `exp`, moved onto our clock by the backend's clock offset. The offset comes from the
 * response's `Date` header; a JWT `iat` is used only when there is none and it lies in our future
 * (a backend clock that runs ahead). An `iat` in the past says nothing about clocks: the backend
 * may hand out a token it issued a while ago, whose remaining lifetime must not be stretched.
 */
function jwtExpiry(token: string, clock: ExpiryClock): number | undefined {
  if (token.split(".").length !== 3) return undefined;
  let claims: { exp?: unknown; iat?: unknown };
  try {
    claims = jwtDecode(token);
  } catch {
    return undefined;
  }
  if (!isFiniteNumber(claims.exp)) return undefined;
  let offset = clock.offset;
  if (!clock.dated && isFiniteNumber(claims.iat)) {
    const ahead = claims.iat - clock.nowSeconds;
    if (ahead > clock.tolerance) offset = ahead;
  }
  return claims.exp - offset;
}

function relative(
  value: unknown,
  nowSeconds: number,
  unit: "seconds" | "milliseconds" = "seconds",
): number | undefined {
  const amount = toNumber(value);
  if (amount === undefined || amount < 0) return undefined;
  return nowSeconds + (unit === "milliseconds" ? amount / 1000 : amount);
}

function absolute(value: unknown, offset: number): number | undefined {
  let time = toNumber(value);
  if (time === undefined && typeof value === "string") {
    const parsed = Date.parse(value);
    time = Number.isNaN(parsed) ? undefined : parsed / 1000;
  }
  if (time === undefined || time <= 0) return undefined;
  // 10^11 seconds is the year 5138; anything larger is milliseconds.
  const seconds = time > 1e11 ? time / 1000 : time;
  return seconds - offset;
}

function toNumber(value: unknown): number | undefined {
  if (typeof value === "number") return Number.isFinite(value) ? value : undefined;
  if (typeof value === "string" && /^\d+(\.\d+)?$/.test(value.trim())) {
    const parsed = Number(value);
    return Number.isFinite(parsed) ? parsed : undefined;
  }
  return undefined;
}

const isFiniteNumber = (value: unknown): value is number => Number.isFinite(value);

/** Backend clock minus ours; 0 within the tolerance or without a backend clock (NaN). */
function clockOffset(backendNowSeconds: number, nowSeconds: number, tolerance: number): number {
  const offset = backendNowSeconds - nowSeconds;
  return Math.abs(offset) > tolerance ? offset : 0;
}

function describeLocation(location: ResolvedTokenLocation): string {
  const parts = location.body.map((path) => `body "${path}"`);
  if (location.cookie) parts.push(`cookie "${location.cookie}"`);
  return parts.join(" or ");
}
