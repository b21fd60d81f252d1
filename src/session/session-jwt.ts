import type { AuthConfig } from "@auth/core";
import type { JWT, JWTDecodeParams, JWTEncodeParams } from "@auth/core/jwt";
import type { Awaitable } from "@auth/core/types";
import { base64url, calculateJwkThumbprint, EncryptJWT, jwtDecrypt } from "jose";
import { processShared } from "../lib/process-shared.js";

/**
 * The one rule for the Auth.js session JWT: Auth.js's own format (JWE, `dir` with an HKDF-derived
 * key, `A256CBC-HS512`, `kid` = the key's thumbprint, 30-day `exp`, `jti`), with two savings:
 *
 * - The derived key and its thumbprint are computed once per secret and salt, not on every
 *   encode and decode (Auth.js derives them each time: HKDF and a SHA-512 per call).
 * - A decode is remembered by the exact token string, so the readers of one request (the proxy,
 *   `auth()`, every `backend.fetch`, route handlers) decrypt the session once instead of once
 *   each; an encode is remembered too (what it will decode to is known), so the cookie just
 *   issued (by the proxy's refresh, or a session read) is not decrypted again in this process. Decoding is a pure function of the token, the secrets and the salt (the cookie name),
 *   apart from the expiry check, which runs again on every hit; so a remembered result is what
 *   decoding again would return. The memory is shared by every copy of this package in the
 *   process (Next.js loads it once per bundle: proxy, route handlers, rendering), bounded in
 *   entries and in time, and each reader gets its own copy of the payload.
 *
 * Validation is jose's `jwtDecrypt` with Auth.js's options (15 s clock tolerance, `dir` only,
 * `A256CBC-HS512` or `A256GCM`), so what Auth.js accepts and refuses, this accepts and refuses.
 */

const ALG = "dir";
const ENC = "A256CBC-HS512";
/** Auth.js's default session lifetime, in seconds. */
const DEFAULT_MAX_AGE_SECONDS = 30 * 24 * 60 * 60;

/** Sessions remembered at most (oldest evicted first). */
const MAX_ENTRIES = 128;
/** How long a decoded session is remembered, in milliseconds. */
const ENTRY_LIFETIME_MS = 60_000;
/** Auth.js's clock tolerance for `exp`, in seconds (`jwtDecrypt(..., { clockTolerance: 15 })`). */
const CLOCK_TOLERANCE_SECONDS = 15;

interface Entry {
  /** The secrets and salt it was decoded with: a token read with others is not this entry. */
  secrets: string | string[];
  salt: string;
  payload: Promise<JWT | null>;
  /** When the entry is dropped, milliseconds since the epoch. */
  until: number;
}

/** Counters for the bench and tests: real decrypts, and reads answered from memory. */
export interface SessionDecodeStats {
  decodes: number;
  hits: number;
}

interface DecodeMemory {
  /** By token string. */
  entries: Map<string, Entry>;
  stats: SessionDecodeStats;
}

const memory = (): DecodeMemory =>
  processShared("session-decode.v1", () => ({
    entries: new Map<string, Entry>(),
    stats: { decodes: 0, hits: 0 },
  }));

/** @internal How many decodes and memory hits this process has had (diagnostics, bench). */
export function sessionDecodeStats(): Readonly<SessionDecodeStats & { entries: number }> {
  const { stats, entries } = memory();
  return { ...stats, entries: entries.size };
}

/** Same secrets, in the same order (a single secret and a list of one are the same). */
function sameSecrets(a: string | string[], b: string | string[]): boolean {
  if (a === b) return true;
  const left = [a].flat();
  const right = [b].flat();
  return left.length === right.length && left.every((secret, index) => secret === right[index]);
}

/**
 * The session decode (Auth.js's format, see the module comment), remembered per token. Installed as `jwt.decode` by
 * `withBackend` unless the app brings its own `decode`, and used by every reader of the session
 * cookie in this package.
 */
export async function rememberedDecode(params: JWTDecodeParams): Promise<JWT | null> {
  const { token, salt, secret } = params;
  if (!token) return null;
  const { entries, stats } = memory();
  const now = Date.now();
  let entry = entries.get(token);
  if (entry && (entry.until <= now || entry.salt !== salt || !sameSecrets(entry.secrets, secret))) {
    entries.delete(token);
    entry = undefined;
  }
  if (entry) {
    stats.hits++;
  } else {
    stats.decodes++;
    entry = remember(token, secret, salt, decodeOnce({ ...params, token }));
  }
  const payload = await entry.payload;
  if (!payload) return null;
  if (typeof payload.exp === "number" && payload.exp + CLOCK_TOLERANCE_SECONDS <= now / 1000) {
    // Expired since it was remembered (jose refuses once exp + tolerance is reached):
    // let the decode give its own answer (a rejection).
    entries.delete(token);
    return decodeJwt(params);
  }
  // Every reader gets its own copy: callbacks may change the token they are given.
  return structuredClone(payload);
}

/** Remembers what `token` decodes to (with these secrets and salt), evicting the oldest entry. */
function remember(
  token: string,
  secrets: string | string[],
  salt: string,
  payload: JWT | Promise<JWT | null>,
): Entry {
  const { entries } = memory();
  const entry = {
    secrets,
    salt,
    payload: Promise.resolve(payload),
    until: Date.now() + ENTRY_LIFETIME_MS,
  };
  entries.delete(token);
  entries.set(token, entry);
  if (entries.size > MAX_ENTRIES) {
    const oldest = entries.keys().next().value;
    if (oldest !== undefined) entries.delete(oldest);
  }
  return entry;
}

/** A decode; a token that does not decode is forgotten (the next reader fails again). */
async function decodeOnce(params: JWTDecodeParams & { token: string }): Promise<JWT | null> {
  try {
    return await decodeJwt(params);
  } catch (error) {
    memory().entries.delete(params.token);
    throw error;
  }
}

/** @internal The `decode` an Auth.js config uses: the app's own, else {@link rememberedDecode}. */
export function sessionDecodeOf(
  config: Pick<AuthConfig, "jwt">,
): (params: JWTDecodeParams) => Awaitable<JWT | null> {
  return config.jwt?.decode ?? rememberedDecode;
}

interface DerivedKey {
  key: Uint8Array;
  /** Its JWK thumbprint: the `kid` Auth.js writes and checks. */
  kid: string;
}

/** Derived keys by encryption, secret and salt (a handful: secrets × cookie names). */
const derivedKeys = (): Map<string, Promise<DerivedKey>> =>
  processShared("session-jwt-keys.v1", () => new Map<string, Promise<DerivedKey>>());

/** Auth.js's key for `enc`: HKDF-SHA-256 of the secret, salted with the cookie name. */
function derivedKey(enc: string, secret: string, salt: string): Promise<DerivedKey> {
  const cacheKey = `${enc}\u0000${salt}\u0000${secret}`;
  const keys = derivedKeys();
  let derived = keys.get(cacheKey);
  if (!derived) {
    derived = deriveKey(enc, secret, salt);
    keys.set(cacheKey, derived);
    derived.catch(() => keys.delete(cacheKey));
  }
  return derived;
}

async function deriveKey(enc: string, secret: string, salt: string): Promise<DerivedKey> {
  const length = enc === "A256CBC-HS512" ? 64 : enc === "A256GCM" ? 32 : 0;
  if (length === 0) throw new Error("Unsupported JWT Content Encryption Algorithm");
  const encoder = new TextEncoder();
  const material = await crypto.subtle.importKey("raw", encoder.encode(secret), "HKDF", false, [
    "deriveBits",
  ]);
  const bits = await crypto.subtle.deriveBits(
    {
      name: "HKDF",
      hash: "SHA-256",
      salt: encoder.encode(salt),
      info: encoder.encode(`Auth.js Generated Encryption Key (${salt})`),
    },
    material,
    length * 8,
  );
  const key = new Uint8Array(bits);
  const kid = await calculateJwkThumbprint(
    { kty: "oct", k: base64url.encode(key) },
    `sha${key.byteLength << 3}` as "sha256" | "sha512",
  );
  return { key, kid };
}

/** Auth.js's `decode`, with derived keys computed once. */
async function decodeJwt(params: JWTDecodeParams): Promise<JWT | null> {
  const { token, salt } = params;
  if (!token) return null;
  const secrets = [params.secret].flat();
  const { payload } = await jwtDecrypt(
    token,
    async ({ kid, enc }) => {
      for (const secret of secrets) {
        const derived = await derivedKey(enc, secret, salt);
        if (kid === undefined || kid === derived.kid) return derived.key;
      }
      throw new Error("no matching decryption secret");
    },
    {
      clockTolerance: 15,
      keyManagementAlgorithms: [ALG],
      contentEncryptionAlgorithms: [ENC, "A256GCM"],
    },
  );
  return payload as JWT;
}

/**
 * Auth.js's `encode` (same header, claims and lifetime), with the derived key computed once.
 * Installed as `jwt.encode` by `withBackend` unless the app brings its own `encode` or `decode`.
 */
export async function sessionEncode(params: JWTEncodeParams): Promise<string> {
  const { token = {}, secret, maxAge = DEFAULT_MAX_AGE_SECONDS, salt } = params;
  const [first] = [secret].flat();
  if (first === undefined) throw new Error("no secret to encode the session with");
  const { key, kid } = await derivedKey(ENC, first, salt);
  const now = (Date.now() / 1000) | 0;
  const jti = crypto.randomUUID();
  const encoded = await new EncryptJWT(token as Record<string, unknown>)
    .setProtectedHeader({ alg: ALG, enc: ENC, kid })
    .setIssuedAt(now)
    .setExpirationTime(now + maxAge)
    .setJti(jti)
    .encrypt(key);
  // What decoding it will return (the claims as JSON carries them): the reader of the cookie just
  // issued (the proxy after a refresh, the next page after a session read) need not decrypt it.
  remember(
    encoded,
    secret,
    salt,
    JSON.parse(JSON.stringify({ ...token, iat: now, exp: now + maxAge, jti })),
  );
  return encoded;
}
