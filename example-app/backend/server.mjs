/**
 * Reference backend for `authjs-backend-credentials`.
 *
 * A small, dependency-free auth API (Node 20, `node:http` + `node:crypto`) that
 * behaves like a typical custom backend: password login, short-lived access
 * tokens, single-use rotating refresh tokens grouped in families with reuse
 * detection, logout, and two protected resources. Its response format is
 * configurable (token placement, body shape, expiry style, field case) so the
 * library can be exercised against many backend flavours, and it exposes
 * counters and fault injection for tests.
 *
 * Usage as a module:
 *   const backend = await startBackend({ tokenPlacement: "body" });
 *   // ... backend.url, backend.stats, backend.injectFault(...)
 *   await backend.close();
 *
 * Usage as a CLI (options from env vars, see README.md):
 *   CONTROL=1 PORT=4000 node example-app/backend/server.mjs
 *
 * @module
 */
import { createHmac, randomBytes, randomUUID, timingSafeEqual } from "node:crypto";
import { createServer } from "node:http";
import { pathToFileURL } from "node:url";

/**
 * @typedef {"body" | "cookie" | "mixed"} TokenPlacement
 * @typedef {"flat" | "nested"} BodyShape
 * @typedef {"jwt" | "expires_in" | "expires_in_ms" | "expires_at" | "expires_at_ms" | "none"} ExpiryStyle
 * @typedef {"camel" | "snake"} FieldCase
 * @typedef {"login" | "refresh" | "logout" | "me" | "items"} Endpoint
 * @typedef {import("./server.d.mts").BackendUser} BackendUser
 * @typedef {import("./server.d.mts").BackendOptions} BackendOptions
 * @typedef {import("./server.d.mts").ResolvedOptions} ResolvedOptions
 * @typedef {import("./server.d.mts").BackendStats} BackendStats
 * @typedef {import("./server.d.mts").Fault} Fault
 * @typedef {import("./server.d.mts").RecordedRequest} RecordedRequest
 * @typedef {import("./server.d.mts").Backend} Backend
 */

/**
 * What a handler wants to send. The dispatcher decides whether it is actually
 * sent (an `afterRotation` fault drops it instead).
 * @typedef {object} Reply
 * @property {number} status
 * @property {unknown} [body] JSON value, or a string sent as text/plain
 * @property {Record<string, string>} [headers]
 * @property {string[]} [cookies] Set-Cookie values
 * @property {boolean} [rejection] counted as a rejected refresh whatever its status (not sent)
 */

/** Default accounts (password login). Frozen; `startBackend` copies them. */
export const DEFAULT_USERS = deepFreeze([
  {
    id: "1",
    email: "admin@example.com",
    password: "admin-password",
    name: "Ada Admin",
    roles: ["admin"],
  },
  {
    id: "2",
    email: "evaluator@example.com",
    password: "evaluator-password",
    name: "Eve Evaluator",
    roles: ["evaluator"],
  },
  {
    id: "3",
    email: "user@example.com",
    password: "user-password",
    name: "Uma User",
    roles: ["user"],
  },
]);

/** Request bodies larger than this are rejected with 413. */
const MAX_BODY_BYTES = 64 * 1024;
const CONTROL_PREFIX = "/__control/";

/** @type {Record<string, { method: string, endpoint: Endpoint }>} */
const ROUTES = {
  "/auth/login": { method: "POST", endpoint: "login" },
  "/auth/refresh": { method: "POST", endpoint: "refresh" },
  "/auth/logout": { method: "POST", endpoint: "logout" },
  "/users/me": { method: "GET", endpoint: "me" },
  "/api/items": { method: "GET", endpoint: "items" },
};
const FAULT_ENDPOINTS = ["login", "refresh", "logout", "me", "items", "*"];

const FIELD_NAMES = {
  camel: {
    accessToken: "accessToken",
    refreshToken: "refreshToken",
    expiresIn: "expiresIn",
    expiresAt: "expiresAt",
    refreshExpiresIn: "refreshExpiresIn",
  },
  snake: {
    accessToken: "access_token",
    refreshToken: "refresh_token",
    expiresIn: "expires_in",
    expiresAt: "expires_at",
    refreshExpiresIn: "refresh_expires_in",
  },
};

const ITEMS = [
  { id: 1, name: "Alpha" },
  { id: 2, name: "Beta" },
  { id: 3, name: "Gamma" },
];

const BAD_REQUEST = { status: 400, body: { error: "invalid_request" } };
const INVALID_GRANT = { status: 401, body: { error: "invalid_grant" } };
const NOT_FOUND = { status: 404, body: { error: "not_found" } };

// ---------------------------------------------------------------------------
// Options
// ---------------------------------------------------------------------------

/** @param {ReadonlyArray<Readonly<BackendUser>>} users */
function defaultOptions(users = DEFAULT_USERS) {
  return {
    host: "127.0.0.1",
    port: 0,
    accessTokenTtlSeconds: 900,
    refreshTokenTtlSeconds: 86_400,
    tokenPlacement: /** @type {TokenPlacement} */ ("mixed"),
    bodyShape: /** @type {BodyShape} */ ("flat"),
    expiryStyle: /** @type {ExpiryStyle} */ ("jwt"),
    fieldCase: /** @type {FieldCase} */ ("camel"),
    includeRefreshExpiry: true,
    clockSkewSeconds: 0,
    users: copyUsers(users),
    delayMs: 0,
    control: false,
    sessionCookie: true,
    requireSessionCookie: false,
    logoutRequiresAccessToken: false,
    extraCookies: { login: 0, perRefresh: 0, bytes: 1024 },
    requiredFields: {},
    formOnly: false,
    trailingSlash: false,
    sendDateHeader: true,
    refreshExpiry: /** @type {"absolute" | "sliding"} */ ("absolute"),
    logoutRevokes: /** @type {"any" | "body"} */ ("any"),
    refreshRejection: /** @type {{ status: number, body?: unknown }} */ ({
      status: INVALID_GRANT.status,
      body: INVALID_GRANT.body,
    }),
  };
}

/** @typedef {(value: any) => boolean} Validator */
/** @param {string[]} allowed @returns {Validator} */
const oneOf = (allowed) => (v) => allowed.includes(v);
/** @type {Validator} */
const isFiniteNumber = (v) => typeof v === "number" && Number.isFinite(v);
/** @type {Validator} */
const isBoolean = (v) => typeof v === "boolean";

/**
 * Per-option validators: each returns true when the value is acceptable.
 * @type {Record<string, Validator>}
 */
const VALIDATORS = {
  host: (v) => typeof v === "string" && v.length > 0,
  port: (v) => Number.isInteger(v) && v >= 0 && v <= 65_535,
  accessTokenTtlSeconds: isFiniteNumber,
  refreshTokenTtlSeconds: isFiniteNumber,
  tokenPlacement: oneOf(["body", "cookie", "mixed"]),
  bodyShape: oneOf(["flat", "nested"]),
  expiryStyle: oneOf(["jwt", "expires_in", "expires_in_ms", "expires_at", "expires_at_ms", "none"]),
  fieldCase: oneOf(["camel", "snake"]),
  includeRefreshExpiry: isBoolean,
  clockSkewSeconds: isFiniteNumber,
  users: (v) => Array.isArray(v) && v.every(isValidUser),
  delayMs: (v) => isFiniteNumber(v) && v >= 0,
  control: isBoolean,
  sessionCookie: isBoolean,
  requireSessionCookie: isBoolean,
  logoutRequiresAccessToken: isBoolean,
  requiredFields: (v) =>
    isPlainObject(v) &&
    Object.values(v).every(
      (fields) =>
        isPlainObject(fields) && Object.values(fields).every((f) => typeof f === "string"),
    ),
  formOnly: isBoolean,
  trailingSlash: isBoolean,
  sendDateHeader: isBoolean,
  refreshExpiry: oneOf(["absolute", "sliding"]),
  logoutRevokes: oneOf(["any", "body"]),
  refreshRejection: (v) =>
    isPlainObject(v) &&
    Number.isInteger(v.status) &&
    v.status >= 200 &&
    v.status <= 599 &&
    Object.keys(v).every((key) => key === "status" || key === "body"),
  extraCookies: (v) =>
    isPlainObject(v) &&
    ["login", "perRefresh", "bytes"].every(
      (key) => Number.isInteger(v[key]) && v[key] >= 0 && v[key] <= 64 * 1024,
    ),
};

/**
 * Validate `patch` and merge it into `target` (in place). `undefined` values
 * are skipped; unknown keys and invalid values throw a TypeError.
 * @param {object} target
 * @param {Record<string, unknown>} patch
 * @param {readonly string[]} [frozenKeys] keys that may not be changed
 */
function mergeOptions(target, patch, frozenKeys = []) {
  const entries = Object.entries(patch).filter(([, value]) => value !== undefined);
  for (const [key, value] of entries) {
    const validate = VALIDATORS[key];
    if (!validate) throw new TypeError(`Unknown backend option "${key}"`);
    if (frozenKeys.includes(key)) throw new TypeError(`Option "${key}" is fixed after start`);
    if (!validate(value)) {
      const shown = typeof value === "number" ? value : JSON.stringify(value);
      throw new TypeError(`Invalid value for backend option "${key}": ${shown}`);
    }
  }
  for (const [key, value] of entries) {
    /** @type {Record<string, unknown>} */ (target)[key] =
      key === "users" ? copyUsers(/** @type {BackendUser[]} */ (value)) : value;
  }
}

/** @param {unknown} u */
function isValidUser(u) {
  if (!isPlainObject(u)) return false;
  const { id, email, password, name, roles } = /** @type {Record<string, unknown>} */ (u);
  return (
    [id, email, password, name].every((f) => typeof f === "string") &&
    Array.isArray(roles) &&
    roles.every((r) => typeof r === "string")
  );
}

/** @param {ReadonlyArray<Readonly<BackendUser>>} users @returns {BackendUser[]} */
function copyUsers(users) {
  return users.map(({ id, email, password, name, roles }) => ({
    id,
    email,
    password,
    name,
    roles: [...roles],
  }));
}

// ---------------------------------------------------------------------------
// Small helpers: tokens, JWT, cookies, bodies
// ---------------------------------------------------------------------------

/** An opaque token: 32 random bytes, base64url. */
const opaqueToken = () => randomBytes(32).toString("base64url");

/** @param {unknown} value */
const base64urlJson = (value) => Buffer.from(JSON.stringify(value)).toString("base64url");

/**
 * Build an HS256 JWT by hand.
 * @param {Record<string, unknown>} payload
 * @param {Buffer} secret
 */
function signJwt(payload, secret) {
  const signingInput = `${base64urlJson({ alg: "HS256", typ: "JWT" })}.${base64urlJson(payload)}`;
  const signature = createHmac("sha256", secret).update(signingInput).digest("base64url");
  return `${signingInput}.${signature}`;
}

/**
 * Verify an HS256 JWT signature and return its payload (expiry NOT checked),
 * or null if the token is malformed or the signature does not match.
 * @param {string} token
 * @param {Buffer} secret
 * @returns {Record<string, unknown> | null}
 */
function verifyJwt(token, secret) {
  const [header, payload, signature, ...rest] = token.split(".");
  if (!header || !payload || signature === undefined || rest.length > 0) return null;
  const expected = createHmac("sha256", secret).update(`${header}.${payload}`).digest();
  const actual = Buffer.from(signature, "base64url");
  if (actual.length !== expected.length || !timingSafeEqual(actual, expected)) return null;
  try {
    const claims = JSON.parse(Buffer.from(payload, "base64url").toString("utf8"));
    return isPlainObject(claims) ? claims : null;
  } catch {
    return null;
  }
}

/**
 * Serialize a Set-Cookie value.
 * @param {string} name
 * @param {string} value
 * @param {string[]} attributes
 */
const cookie = (name, value, attributes) => [`${name}=${value}`, ...attributes].join("; ");

/** @param {string | undefined} header @returns {Record<string, string>} */
function parseCookies(header) {
  /** @type {Record<string, string>} */
  const cookies = {};
  for (const part of (header ?? "").split(";")) {
    const eq = part.indexOf("=");
    if (eq <= 0) continue;
    const name = part.slice(0, eq).trim();
    const raw = part.slice(eq + 1).trim();
    if (!name || name in cookies) continue;
    try {
      cookies[name] = decodeURIComponent(raw);
    } catch {
      cookies[name] = raw;
    }
  }
  return cookies;
}

/** @param {string | undefined} header */
function bearerToken(header) {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header ?? "");
  return match?.[1];
}

/** @param {unknown} value @returns {value is Record<string, unknown>} */
function isPlainObject(value) {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * Parse a request body leniently: JSON whatever the declared content type
 * (curl -d sends JSON as form-urlencoded), falling back to form decoding when
 * the body is declared as a form. Empty bodies parse to undefined.
 * @param {string} raw
 * @param {string | undefined} contentType
 * @returns {{ ok: true, value: unknown } | { ok: false }}
 */
function parseBody(raw, contentType) {
  if (raw.trim() === "") return { ok: true, value: undefined };
  try {
    return { ok: true, value: JSON.parse(raw) };
  } catch {
    if (contentType?.toLowerCase().includes("application/x-www-form-urlencoded")) {
      return { ok: true, value: Object.fromEntries(new URLSearchParams(raw)) };
    }
    return { ok: false };
  }
}

/** Thrown while reading a body that exceeds MAX_BODY_BYTES. */
class PayloadTooLarge extends Error {}

/**
 * Read the request body as UTF-8 text, enforcing MAX_BODY_BYTES.
 * @param {import("node:http").IncomingMessage} req
 * @returns {Promise<string>}
 */
function readBody(req) {
  return new Promise((resolve, reject) => {
    if (Number(req.headers["content-length"]) > MAX_BODY_BYTES) {
      reject(new PayloadTooLarge());
      return;
    }
    /** @type {Buffer[]} */
    const chunks = [];
    let size = 0;
    let failed = false;
    req.on("data", (/** @type {Buffer} */ chunk) => {
      if (failed) return;
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        failed = true;
        chunks.length = 0;
        reject(new PayloadTooLarge());
      } else {
        chunks.push(chunk);
      }
    });
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
    req.on("close", () => reject(new Error("request aborted"))); // no-op once settled
  });
}

/** Sleep without keeping the process alive. @param {number} ms */
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms).unref());

/** Constant-time string comparison. @param {string} a @param {string} b */
function safeEqual(a, b) {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** @template T @param {T} value @returns {T} */
function deepFreeze(value) {
  if (typeof value === "object" && value !== null) {
    for (const inner of Object.values(value)) deepFreeze(inner);
    Object.freeze(value);
  }
  return value;
}

/** Epoch ms to whole epoch seconds (rounded down). @param {number} ms */
const secondsOf = (ms) => Math.floor(ms / 1000);

/** @param {Readonly<BackendUser>} user */
const publicUser = ({ id, email, name, roles }) => ({ id, email, name, roles: [...roles] });

// ---------------------------------------------------------------------------
// The backend
// ---------------------------------------------------------------------------

/**
 * Start the reference backend.
 * @param {BackendOptions} [userOptions]
 * @returns {Promise<Backend>}
 */
export async function startBackend(userOptions = {}) {
  /** @type {ResolvedOptions} */
  const options = defaultOptions();
  mergeOptions(options, { ...userOptions });

  const jwtSecret = randomBytes(32);

  /**
   * A token family is created at login; every refresh token issued by
   * rotating it shares its absolute expiry and its revocation.
   * @typedef {{ id: string, userId: string, createdAt: number, refreshExpiresAt: number,
   *   revoked: boolean }} Family
   * @type {Map<string, Family>}
   */
  const families = new Map();
  /** @type {Map<string, { familyId: string, retired: boolean }>} */
  const refreshTokens = new Map();
  /**
   * Opaque (non-JWT) access tokens; `exp` in ms on the backend clock.
   * @type {Map<string, { userId: string, familyId: string, exp: number }>}
   */
  const accessTokens = new Map();

  /** @type {BackendStats} */
  const stats = {
    login: 0,
    loginFailed: 0,
    refresh: 0,
    refreshSucceeded: 0,
    refreshRejected: 0,
    reuseDetected: 0,
    logout: 0,
    me: 0,
    items: 0,
    requests: 0,
  };
  const initialStats = { ...stats };
  /** @type {RecordedRequest[]} */
  const requests = [];
  /**
   * Pending faults per endpoint, consumed in FIFO order.
   * @type {Map<string, Array<{ fault: Fault, remaining: number }>>}
   */
  const faults = new Map();

  /** The backend clock: real time shifted by `clockSkewSeconds`, in ms. */
  const now = () => Date.now() + options.clockSkewSeconds * 1000;

  /** @param {string} id */
  const findUserById = (id) => options.users.find((u) => u.id === id);
  /** @param {string} email */
  const findUserByEmail = (email) =>
    options.users.find((u) => u.email.toLowerCase() === email.trim().toLowerCase());

  /** Families of the user with this email, or all families. @param {string} [email] */
  function familiesOf(email) {
    const all = [...families.values()];
    if (email === undefined) return all;
    const user = findUserByEmail(email);
    return user ? all.filter((f) => f.userId === user.id) : [];
  }

  // ----- token issuance and validation -----

  /**
   * `count` new cookies of `options.extraCookies.bytes` bytes each (a hostile or careless
   * backend: a cookie flood at login, or one that grows the jar on every refresh).
   * @param {number} count
   */
  function extraCookies(count) {
    const { bytes } = options.extraCookies;
    return Array.from({ length: count }, () =>
      cookie(`extra_${randomUUID().slice(0, 8)}`, "x".repeat(bytes), ["HttpOnly", "Path=/"]),
    );
  }

  /**
   * Issue a new access token and refresh token in `family`, and shape the
   * response according to the current options.
   * @param {BackendUser} user
   * @param {{ id: string, refreshExpiresAt: number }} family
   * @param {number} issuedAt backend clock, ms
   * @returns {Reply & { cookies: string[] }}
   */
  function issueTokens(user, family, issuedAt) {
    const ttl = options.accessTokenTtlSeconds;
    let accessExpiresAt = issuedAt + ttl * 1000; // ms
    let accessToken;
    if (options.expiryStyle === "jwt") {
      const exp = secondsOf(accessExpiresAt);
      accessExpiresAt = exp * 1000;
      const claims = {
        sub: user.id,
        email: user.email,
        name: user.name,
        roles: [...user.roles],
        sid: family.id,
        iat: secondsOf(issuedAt),
        exp,
        jti: randomUUID(),
      };
      accessToken = signJwt(claims, jwtSecret);
    } else {
      accessToken = opaqueToken();
      accessTokens.set(accessToken, { userId: user.id, familyId: family.id, exp: accessExpiresAt });
    }
    const refreshToken = opaqueToken();
    refreshTokens.set(refreshToken, { familyId: family.id, retired: false });
    const refreshExpiresIn = Math.max(0, secondsOf(family.refreshExpiresAt - issuedAt));

    const names = FIELD_NAMES[options.fieldCase] ?? FIELD_NAMES.camel;
    const placement = options.tokenPlacement;
    /** @type {Record<string, unknown>} */
    const payload = {};
    if (placement !== "cookie") payload[names.accessToken] = accessToken;
    if (placement === "body") payload[names.refreshToken] = refreshToken;
    if (options.expiryStyle === "expires_in") payload[names.expiresIn] = ttl;
    if (options.expiryStyle === "expires_in_ms") payload[names.expiresIn] = ttl * 1000;
    if (options.expiryStyle === "expires_at") payload[names.expiresAt] = secondsOf(accessExpiresAt);
    if (options.expiryStyle === "expires_at_ms") payload[names.expiresAt] = accessExpiresAt;
    if (options.includeRefreshExpiry) payload[names.refreshExpiresIn] = refreshExpiresIn;
    payload.user = publicUser(user);

    const cookies = [];
    if (placement === "cookie") {
      cookies.push(
        cookie("access_token", accessToken, [
          "HttpOnly",
          "Path=/",
          "SameSite=Lax",
          `Max-Age=${Math.max(0, Math.floor(ttl))}`,
        ]),
      );
    }
    if (placement === "cookie" || placement === "mixed") {
      cookies.push(
        cookie("refresh_token", refreshToken, [
          "HttpOnly",
          "Path=/auth",
          "SameSite=Strict",
          `Max-Age=${refreshExpiresIn}`,
        ]),
      );
    }
    return {
      status: 200,
      body: options.bodyShape === "nested" ? { data: payload } : payload,
      cookies,
    };
  }

  /**
   * Resolve an access token (opaque or JWT) to its user and family.
   * @param {string} token
   * @param {{ ignoreExpiry?: boolean }} [opts] logout identifies even expired/revoked tokens
   */
  function resolveAccessToken(token, { ignoreExpiry = false } = {}) {
    let userId;
    let familyId;
    let expiresAt;
    const opaque = accessTokens.get(token);
    if (opaque) {
      ({ userId, familyId, exp: expiresAt } = opaque);
    } else {
      const claims = verifyJwt(token, jwtSecret);
      if (!claims || typeof claims.exp !== "number") return null;
      userId = String(claims.sub);
      familyId = String(claims.sid);
      expiresAt = claims.exp * 1000;
    }
    const family = families.get(familyId);
    const user = findUserById(userId);
    if (!family || !user) return null;
    if (!ignoreExpiry && (family.revoked || now() >= expiresAt)) return null;
    return { user, family };
  }

  /**
   * Authenticate a resource request: Bearer header (or the access_token
   * cookie in cookie placement), plus the session cookie when required.
   * @param {RequestContext} ctx
   */
  function authenticate(ctx) {
    const token =
      ctx.bearer ?? (options.tokenPlacement === "cookie" ? ctx.cookies.access_token : undefined);
    const session = token ? resolveAccessToken(token) : null;
    if (!session) return null;
    if (options.requireSessionCookie && ctx.cookies.backend_sid !== session.family.id) return null;
    return session;
  }

  /**
   * The presented refresh token: body field, Bearer header or cookie (first found wins).
   * @param {RequestContext} ctx
   */
  function presentedRefreshToken(ctx) {
    const body = isPlainObject(ctx.body) ? ctx.body : {};
    const candidates = [
      body.refreshToken,
      body.refresh_token,
      ctx.bearer,
      ctx.cookies.refresh_token,
    ];
    return /** @type {string | undefined} */ (
      candidates.find((t) => typeof t === "string" && t.length > 0)
    );
  }

  // ----- endpoint handlers -----

  /**
   * What the endpoint handlers get to see of a request.
   * @typedef {object} RequestContext
   * @property {number} now backend clock (ms) when processing started
   * @property {unknown} body parsed body (undefined when empty or malformed)
   * @property {boolean} bodyValid false when the body could not be parsed
   * @property {Record<string, string>} cookies
   * @property {string | undefined} bearer token from `Authorization: Bearer …`
   */

  /** @type {Record<Endpoint, (ctx: RequestContext) => Reply>} */
  const handlers = {
    login(ctx) {
      const body = ctx.body ?? {};
      if (!ctx.bodyValid || !isPlainObject(body)) return BAD_REQUEST;
      const email = body.email ?? body.username;
      if (typeof email !== "string" || typeof body.password !== "string") return BAD_REQUEST;
      const user = findUserByEmail(email);
      if (!user || !safeEqual(user.password, body.password)) {
        return {
          status: 401,
          body: { error: "invalid_credentials", message: "Invalid email or password" },
        };
      }
      const family = {
        id: randomUUID(),
        userId: user.id,
        createdAt: ctx.now,
        refreshExpiresAt: ctx.now + options.refreshTokenTtlSeconds * 1000,
        revoked: false,
      };
      families.set(family.id, family);
      const reply = issueTokens(user, family, ctx.now);
      reply.cookies.push(...extraCookies(options.extraCookies.login));
      if (options.sessionCookie) {
        reply.cookies.push(
          cookie("backend_sid", family.id, ["HttpOnly", "Path=/", "SameSite=Lax"]),
          cookie("theme", "dark", ["Path=/"]),
        );
      }
      return reply;
    },

    refresh(ctx) {
      if (!ctx.bodyValid) return BAD_REQUEST;
      const token = presentedRefreshToken(ctx);
      if (!token) return BAD_REQUEST;
      const record = refreshTokens.get(token);
      const family = record && families.get(record.familyId);
      if (!record || !family) return refreshRejected();
      if (record.retired) {
        // A rotated token came back: someone holds a copy. Kill the family.
        family.revoked = true;
        stats.reuseDetected++;
        return refreshRejected("refresh token reuse detected");
      }
      const user = findUserById(family.userId);
      if (family.revoked || ctx.now >= family.refreshExpiresAt || !user) return refreshRejected();
      record.retired = true;
      stats.refreshSucceeded++;
      if (options.refreshExpiry === "sliding") {
        // Each rotation grants a fresh refresh lifetime (the new token's own expiry).
        family.refreshExpiresAt = ctx.now + options.refreshTokenTtlSeconds * 1000;
      }
      const reply = issueTokens(user, family, ctx.now);
      reply.cookies.push(...extraCookies(options.extraCookies.perRefresh));
      return reply;
    },

    logout(ctx) {
      if (options.logoutRequiresAccessToken) {
        // Strict mode: only a valid (unexpired, unrevoked) access token ends its session.
        const session = ctx.bearer ? resolveAccessToken(ctx.bearer) : null;
        if (!session) return unauthorized();
        session.family.revoked = true;
        return { status: 204 };
      }
      const body = isPlainObject(ctx.body) ? ctx.body : {};
      const byBodyOnly = options.logoutRevokes === "body";
      /** @type {Set<string | undefined>} */
      const familyIds = new Set(byBodyOnly ? [] : [ctx.cookies.backend_sid]);
      const presented = byBodyOnly
        ? [body.refreshToken, body.refresh_token]
        : [
            body.refreshToken,
            body.refresh_token,
            ctx.bearer,
            ctx.cookies.refresh_token,
            ctx.cookies.access_token,
          ];
      for (const token of presented) {
        if (typeof token !== "string") continue;
        familyIds.add(
          refreshTokens.get(token)?.familyId ??
            resolveAccessToken(token, { ignoreExpiry: true })?.family.id,
        );
      }
      for (const id of familyIds) {
        const family = id === undefined ? undefined : families.get(id);
        if (family) family.revoked = true;
      }
      const expired = ["Max-Age=0", "HttpOnly"];
      return {
        status: 204,
        cookies: [
          cookie("access_token", "", ["Path=/", "SameSite=Lax", ...expired]),
          cookie("refresh_token", "", ["Path=/auth", "SameSite=Strict", ...expired]),
          cookie("backend_sid", "", ["Path=/", "SameSite=Lax", ...expired]),
        ],
      };
    },

    me(ctx) {
      const session = authenticate(ctx);
      if (!session) return unauthorized();
      return { status: 200, body: { ...publicUser(session.user), department: "Research" } };
    },

    items(ctx) {
      const session = authenticate(ctx);
      if (!session) return unauthorized();
      return {
        status: 200,
        body: { items: ITEMS.map((item) => ({ ...item })), user: session.user.email },
      };
    },
  };

  /**
   * A refresh token that is unknown, reused, revoked or expired: `options.refreshRejection`
   * (401 invalid_grant by default, the reference behaviour).
   * @param {string} [description] added as `error_description` to an object body
   * @returns {Reply}
   */
  function refreshRejected(description) {
    const { status, body } = options.refreshRejection;
    const described =
      description && isPlainObject(body) ? { ...body, error_description: description } : body;
    return { status, body: described, rejection: true };
  }

  /** @returns {Reply} */
  function unauthorized() {
    return {
      status: 401,
      body: { error: "invalid_token" },
      headers: { "WWW-Authenticate": 'Bearer error="invalid_token"' },
    };
  }

  // ----- faults, stats, control -----

  /** @param {Endpoint} endpoint */
  function takeFault(endpoint) {
    for (const key of [endpoint, "*"]) {
      const queue = faults.get(key);
      const entry = queue?.[0];
      if (!queue || !entry) continue;
      if (--entry.remaining <= 0) queue.shift();
      return entry.fault;
    }
    return undefined;
  }

  /** @param {string} endpoint @param {Fault} fault */
  function injectFault(endpoint, fault) {
    if (!FAULT_ENDPOINTS.includes(endpoint)) {
      throw new TypeError(`Unknown fault endpoint "${endpoint}"`);
    }
    if (typeof fault !== "object" || fault === null) {
      throw new TypeError("A fault must be an object");
    }
    const times = fault.times ?? 1;
    if (!Number.isInteger(times) || times < 1) {
      throw new TypeError("fault.times must be a positive integer");
    }
    const queue = faults.get(endpoint) ?? [];
    queue.push({ fault: { ...fault }, remaining: times });
    faults.set(endpoint, queue);
  }

  function clearFaults() {
    faults.clear();
  }

  function resetStats() {
    Object.assign(stats, initialStats);
    requests.length = 0;
  }

  /** @param {string} [email] */
  function revokeAll(email) {
    const affected = familiesOf(email);
    for (const family of affected) family.revoked = true;
    return affected.length;
  }

  /** @param {string} [email] */
  function expireRefreshTokens(email) {
    const affected = familiesOf(email);
    const t = now();
    for (const family of affected) family.refreshExpiresAt = Math.min(family.refreshExpiresAt, t);
    return affected.length;
  }

  /**
   * The HTTP control API (only when `options.control` is true).
   * @param {string} method
   * @param {string} path
   * @param {unknown} body
   * @returns {Reply}
   */
  function handleControl(method, path, body) {
    const args = isPlainObject(body) ? body : {};
    const email = typeof args.email === "string" ? args.email : undefined;
    try {
      switch (`${method} ${path.slice(CONTROL_PREFIX.length)}`) {
        case "GET stats":
          return { status: 200, body: stats };
        case "GET requests":
          return { status: 200, body: requests };
        case "GET options":
          return { status: 200, body: options };
        case "POST reset":
          resetStats();
          clearFaults();
          return { status: 200, body: { ok: true } };
        case "POST fault": {
          const { endpoint, ...fault } = args;
          injectFault(String(endpoint), /** @type {Fault} */ (fault));
          return { status: 200, body: { ok: true } };
        }
        case "POST revoke":
          return { status: 200, body: { ok: true, families: revokeAll(email) } };
        case "POST expire-refresh":
          return { status: 200, body: { ok: true, families: expireRefreshTokens(email) } };
        case "POST options":
          mergeOptions(options, args, ["host", "port"]);
          return { status: 200, body: options };
        default:
          return NOT_FOUND;
      }
    } catch (error) {
      return {
        status: 400,
        body: { error: "invalid_request", message: /** @type {Error} */ (error).message },
      };
    }
  }

  // ----- HTTP plumbing -----

  /**
   * Write a reply (JSON unless the body is a string). Every response carries
   * `Cache-Control: no-store` and a `Date` header from the backend clock.
   * @param {import("node:http").ServerResponse} res
   * @param {Reply} reply
   */
  function send(res, reply) {
    if (res.headersSent || res.destroyed) return;
    res.setHeader("Cache-Control", "no-store");
    if (options.sendDateHeader) res.setHeader("Date", new Date(now()).toUTCString());
    else res.sendDate = false;
    if (reply.cookies?.length) res.setHeader("Set-Cookie", reply.cookies);
    for (const [name, value] of Object.entries(reply.headers ?? {})) {
      res.setHeader(name, String(value));
    }
    if (reply.status === 204 || reply.status === 304 || reply.body === undefined) {
      res.writeHead(reply.status).end();
      return;
    }
    const isText = typeof reply.body === "string";
    if (!res.hasHeader("Content-Type")) {
      res.setHeader("Content-Type", isText ? "text/plain; charset=utf-8" : "application/json");
    }
    res.writeHead(reply.status).end(isText ? reply.body : JSON.stringify(reply.body));
  }

  /**
   * Update the outcome counters, then send.
   * @param {Endpoint} endpoint
   * @param {import("node:http").ServerResponse} res
   * @param {Reply} reply
   */
  function answer(endpoint, res, reply) {
    // A rejection is what refreshRejected() answers, or else (bad requests, injected faults) a
    // 400 or 401.
    const rejected = reply.rejection ?? (reply.status === 400 || reply.status === 401);
    if (rejected && endpoint === "login") stats.loginFailed++;
    if (rejected && endpoint === "refresh") stats.refreshRejected++;
    send(res, reply);
  }

  /**
   * @param {import("node:http").IncomingMessage} req
   * @param {import("node:http").ServerResponse} res
   */
  async function handleRequest(req, res) {
    const path = (req.url ?? "/").split("?")[0] ?? "/";
    const method = req.method ?? "GET";

    if (options.control && path.startsWith(CONTROL_PREFIX)) {
      const parsed = parseBody(
        method === "POST" ? await readBody(req) : "",
        req.headers["content-type"],
      );
      if (!parsed.ok) return send(res, BAD_REQUEST);
      return send(res, handleControl(method, path, parsed.value));
    }

    stats.requests++;
    if (options.trailingSlash && !path.endsWith("/") && ROUTES[path]) {
      // Django's APPEND_SLASH: the path without its slash is redirected, not served.
      return send(res, { status: 301, headers: { location: `${path}/` } });
    }
    const route = ROUTES[options.trailingSlash ? path.replace(/\/$/, "") : path];
    if (!route || route.method !== method) return send(res, NOT_FOUND);
    const { endpoint } = route;
    stats[endpoint]++;

    if (options.delayMs > 0) await sleep(options.delayMs);
    const raw = method === "POST" ? await readBody(req) : "";
    const parsed = parseBody(raw, req.headers["content-type"]);
    const cookies = parseCookies(req.headers.cookie);

    if (endpoint === "refresh" || endpoint === "logout") {
      /** @type {Record<string, string>} */
      const headers = {};
      for (const [name, value] of Object.entries(req.headers)) {
        if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(", ") : value;
      }
      requests.push({
        endpoint,
        method,
        path: req.url ?? path,
        headers,
        body: parsed.ok ? parsed.value : raw,
        cookies,
      });
      if (requests.length > 20) requests.splice(0, requests.length - 20);
    }

    if (
      options.formOnly &&
      method === "POST" &&
      !req.headers["content-type"]?.includes("application/x-www-form-urlencoded")
    ) {
      return answer(endpoint, res, { status: 415, body: { error: "invalid_request" } });
    }
    const required = options.requiredFields[endpoint];
    if (required) {
      const body = parsed.ok && isPlainObject(parsed.value) ? parsed.value : {};
      if (Object.entries(required).some(([name, value]) => body[name] !== value)) {
        return answer(endpoint, res, {
          status: 400,
          body: { error: "invalid_request", error_description: "missing required fields" },
        });
      }
    }

    const fault = takeFault(endpoint);
    if (fault?.delayMs) await sleep(fault.delayMs);
    if (fault?.drop) return void req.socket.destroy();
    if (fault && (fault.status !== undefined || fault.body !== undefined)) {
      return answer(endpoint, res, {
        status: fault.status ?? 500,
        body: fault.body ?? { error: "injected" },
        headers: fault.headers,
      });
    }

    const reply = handlers[endpoint]({
      now: now(),
      body: parsed.ok ? parsed.value : undefined,
      bodyValid: parsed.ok,
      cookies,
      bearer: bearerToken(req.headers.authorization),
    });
    // "Lost response": the work (e.g. a rotation) is done, but the client never hears back.
    if (fault?.afterRotation) return void req.socket.destroy();
    // "Late answer": the work is done now, the answer arrives later (a slow network or server).
    if (fault?.answerDelayMs) await sleep(fault.answerDelayMs);
    answer(endpoint, res, { ...reply, headers: { ...reply.headers, ...fault?.headers } });
  }

  const server = createServer((req, res) => {
    handleRequest(req, res).catch((error) => {
      if (error instanceof PayloadTooLarge) {
        res.setHeader("Connection", "close");
        send(res, { status: 413, body: { error: "payload_too_large" } });
      } else if (!res.headersSent) {
        send(res, { status: 500, body: { error: "server_error" } });
      } else {
        res.destroy();
      }
    });
  });
  server.on("clientError", (error, socket) => {
    if (/** @type {NodeJS.ErrnoException} */ (error).code === "ECONNRESET" || !socket.writable) {
      return void socket.destroy();
    }
    socket.end("HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n");
  });

  await new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, options.host, () => {
      server.off("error", reject);
      resolve(undefined);
    });
  });

  const address = server.address();
  const port = typeof address === "object" && address ? address.port : options.port;
  /** @type {{ port: number }} */ (options).port = port;
  const hostForUrl = options.host.includes(":") ? `[${options.host}]` : options.host;

  /** @type {Promise<void> | undefined} */
  let closing;
  return {
    url: `http://${hostForUrl}:${port}`,
    port,
    server,
    options,
    stats,
    requests,
    injectFault,
    clearFaults,
    revokeAll,
    expireRefreshTokens,
    resetStats,
    close() {
      closing ??= new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closing;
    },
  };
}

// ---------------------------------------------------------------------------
// CLI: `node example-app/backend/server.mjs`
// ---------------------------------------------------------------------------

/**
 * Build options from environment variables (see README.md).
 * @param {NodeJS.ProcessEnv} env
 * @returns {BackendOptions}
 */
export function optionsFromEnv(env = process.env) {
  const number = (/** @type {string | undefined} */ v) =>
    v === undefined || v === "" ? undefined : Number(v);
  const flag = (/** @type {string | undefined} */ v) =>
    v === undefined || v === "" ? undefined : ["1", "true", "yes"].includes(v.toLowerCase());
  const text = (/** @type {string | undefined} */ v) => (v === "" ? undefined : v);
  return /** @type {BackendOptions} */ ({
    host: text(env.HOST) ?? "127.0.0.1",
    port: number(env.PORT) ?? 4000,
    accessTokenTtlSeconds: number(env.ACCESS_TOKEN_TTL),
    refreshTokenTtlSeconds: number(env.REFRESH_TOKEN_TTL),
    tokenPlacement: text(env.TOKEN_PLACEMENT),
    expiryStyle: text(env.EXPIRY_STYLE),
    bodyShape: text(env.BODY_SHAPE),
    fieldCase: text(env.FIELD_CASE),
    clockSkewSeconds: number(env.CLOCK_SKEW_SECONDS),
    delayMs: number(env.DELAY_MS),
    control: flag(env.CONTROL),
    requireSessionCookie: flag(env.REQUIRE_SESSION_COOKIE),
    logoutRequiresAccessToken: flag(env.LOGOUT_REQUIRES_ACCESS_TOKEN),
  });
}

const isMain =
  process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href;
if (isMain) {
  try {
    const backend = await startBackend(optionsFromEnv());
    console.log(`backend listening on ${backend.url}`);
    const shutdown = () => void backend.close().then(() => process.exit(0));
    process.once("SIGINT", shutdown);
    process.once("SIGTERM", shutdown);
  } catch (error) {
    console.error(`backend failed to start: ${/** @type {Error} */ (error).message}`);
    process.exit(1);
  }
}
