import { randomUUID } from "node:crypto";
import { Auth } from "@auth/core";
import { decode, encode } from "@auth/core/jwt";
import { base64url, calculateJwkThumbprint, decodeProtectedHeader, EncryptJWT } from "jose";
import { afterEach, describe, expect, it, vi } from "vitest";
import { getBackendAuth } from "../src/index.js";
import {
  rememberedDecode,
  sessionDecodeOf,
  sessionDecodeStats,
  sessionEncode,
} from "../src/session/session-jwt.js";
import { decodeSession, ORIGIN, SECRET, SESSION_COOKIE, signedIn } from "./harness/index.js";

const decodesSince = (before: { decodes: number }) => sessionDecodeStats().decodes - before.decodes;

/** A cookie name no other test uses: its tokens and derived keys are new to this process. */
const freshSalt = () => `salt-${randomUUID()}`;

const OTHER_SECRET = "other-secret-other-secret-other-secret!";
const THIRD_SECRET = "third-secret-third-secret-third-secret!";

/** A whole second, so Auth.js's `iat` (seconds) is exactly this instant. */
const T0 = 1_800_000_000_000;

/** What `read` changed in the decode counters: real decrypts, memory hits, entries held. */
async function countersAround<T>(
  read: () => Promise<T>,
): Promise<{ result: T; decodes: number; hits: number; entries: number }> {
  const before = sessionDecodeStats();
  const result = await read();
  const after = sessionDecodeStats();
  return {
    result,
    decodes: after.decodes - before.decodes,
    hits: after.hits - before.hits,
    entries: after.entries - before.entries,
  };
}

/** The decrypts `read` made (0: answered from memory). */
async function decodesOf(read: () => Promise<unknown>): Promise<number> {
  return (await countersAround(read)).decodes;
}

/** Forgets what this process shares under `key`, as a freshly started process would have nothing. */
function forgetProcessState(key: string): void {
  const registry = (globalThis as Record<symbol, Map<string, unknown> | undefined>)[
    Symbol.for("authjs-backend-credentials.process-state.v1")
  ];
  registry?.delete(key);
}

describe("session JWT (Auth.js's format, one decrypt per session token)", () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it("the readers of one request decrypt the session cookie once: Auth()'s session read and three getBackendAuth calls", async () => {
    const { config, browser } = await signedIn({ tokenPlacement: "mixed" });
    // The session as another process would have issued it (Auth.js's own encode): not yet seen here.
    const unseen = await encode({
      token: (await decodeSession(browser)) ?? {},
      secret: SECRET,
      salt: SESSION_COOKIE,
    });
    const cookie = `${SESSION_COOKIE}=${unseen}`;
    const request = () => new Request(`${ORIGIN}/api/items`, { headers: { cookie } });
    const before = sessionDecodeStats();
    const [session, ...auths] = await Promise.all([
      Auth(new Request(`${ORIGIN}/auth/session`, { headers: { cookie } }), config),
      getBackendAuth(config, request()),
      getBackendAuth(config, request()),
      getBackendAuth(config, request()),
    ]);
    expect(((await session.json()) as { user: { email: string } }).user.email).toBeTruthy();
    expect(new Set(auths.map((auth) => auth.accessToken)).size).toBe(1);
    expect(decodesSince(before)).toBe(1);
    expect(sessionDecodeStats().hits - before.hits).toBe(3);
  });

  it("hands every reader its own copy of the payload", async () => {
    const token = await encode({ token: { sub: "1", roles: ["a"] }, secret: SECRET, salt: "s" });
    const first = await rememberedDecode({ token, secret: SECRET, salt: "s" });
    if (!first) throw new Error("expected a payload");
    (first.roles as string[]).push("changed");
    first.sub = "changed";
    const second = await rememberedDecode({ token, secret: SECRET, salt: "s" });
    expect(second).toMatchObject({ sub: "1", roles: ["a"] });
  });

  it("answers as Auth.js's decode would: null without a token, a rejection for another secret or salt", async () => {
    const token = await encode({ token: { sub: "1" }, secret: SECRET, salt: "s" });
    expect(await rememberedDecode({ token: undefined, secret: SECRET, salt: "s" })).toBeNull();
    await rememberedDecode({ token, secret: SECRET, salt: "s" });
    await expect(
      rememberedDecode({ token, secret: "another-secret-another-secret-xx", salt: "s" }),
    ).rejects.toThrow();
    await expect(rememberedDecode({ token, secret: SECRET, salt: "other" })).rejects.toThrow();
    // A rotated secret list that still holds the sealing secret decodes it.
    expect(
      await rememberedDecode({
        token,
        secret: ["new-secret-new-secret-new-secret", SECRET],
        salt: "s",
      }),
    ).toMatchObject({ sub: "1" });
  });

  it("a remembered session past its JWT expiry (plus Auth.js's 15 s tolerance) no longer decodes", async () => {
    vi.useFakeTimers({ toFake: ["Date"] });
    const token = await encode({ token: { sub: "1" }, secret: SECRET, salt: "s", maxAge: 60 });
    expect(await rememberedDecode({ token, secret: SECRET, salt: "s" })).toMatchObject({
      sub: "1",
    });
    vi.setSystemTime(Date.now() + 70_000);
    expect(await rememberedDecode({ token, secret: SECRET, salt: "s" })).toMatchObject({
      sub: "1",
    });
    vi.setSystemTime(Date.now() + 10_000);
    await expect(rememberedDecode({ token, secret: SECRET, salt: "s" })).rejects.toThrow(/exp/);
  });

  it("a remembered session is refused from the very millisecond Auth.js's decode refuses it (exp + 15 s)", async () => {
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(1_900_000_000_000);
    const token = await encode({ token: { sub: "1" }, secret: SECRET, salt: "edge", maxAge: 30 });
    const params = { token, secret: SECRET, salt: "edge" };
    expect(await rememberedDecode(params)).toMatchObject({ sub: "1" });
    const refusedFrom = (1_900_000_000 + 30 + 15) * 1000;
    vi.setSystemTime(refusedFrom - 1);
    expect(await decode(params)).toMatchObject({ sub: "1" });
    expect(await rememberedDecode(params)).toMatchObject({ sub: "1" });
    vi.setSystemTime(refusedFrom);
    await expect(decode(params)).rejects.toThrow(/exp/);
    await expect(rememberedDecode(params)).rejects.toThrow(/exp/);
  });

  it("keeps at most 128 sessions and forgets each after a minute", async () => {
    vi.useFakeTimers({ toFake: ["Date"] });
    for (let i = 0; i < 200; i++) {
      const token = await encode({ token: { sub: String(i) }, secret: SECRET, salt: "bound" });
      await rememberedDecode({ token, secret: SECRET, salt: "bound" });
    }
    expect(sessionDecodeStats().entries).toBeLessThanOrEqual(128);
    const token = await encode({ token: { sub: "late" }, secret: SECRET, salt: "s" });
    await rememberedDecode({ token, secret: SECRET, salt: "s" });
    vi.setSystemTime(Date.now() + 61_000);
    const before = sessionDecodeStats();
    await rememberedDecode({ token, secret: SECRET, salt: "s" });
    expect(decodesSince(before)).toBe(1);
  });

  it("an app's own jwt.decode is what Auth() and getBackendAuth use", async () => {
    const seen: string[] = [];
    const { config, browser } = await signedIn(
      { tokenPlacement: "mixed" },
      {},
      {
        jwt: {
          async decode(params) {
            seen.push(params.salt);
            return rememberedDecode(params);
          },
        },
      },
    );
    const before = seen.length;
    const auth = await getBackendAuth(
      config,
      new Request(`${ORIGIN}/api/items`, { headers: { cookie: browser.cookieHeader() } }),
    );
    expect(auth.accessToken).toBeTruthy();
    expect(seen.slice(before)).toEqual([SESSION_COOKIE]);
  });

  it("writes and reads exactly Auth.js's format: each decodes what the other encodes, same header and claims", async () => {
    const ours = await sessionEncode({
      token: { sub: "1" },
      secret: SECRET,
      salt: "s",
      maxAge: 120,
    });
    const theirs = await encode({ token: { sub: "1" }, secret: SECRET, salt: "s", maxAge: 120 });
    expect(decodeProtectedHeader(ours)).toEqual(decodeProtectedHeader(theirs));
    const read = await decode({ token: ours, secret: SECRET, salt: "s" });
    expect(read).toMatchObject({ sub: "1" });
    expect((read?.exp ?? 0) - (read?.iat ?? 0)).toBe(120);
    expect(read?.jti).toMatch(/^[0-9a-f-]{36}$/);
    expect(await rememberedDecode({ token: theirs, secret: SECRET, salt: "s" })).toMatchObject({
      sub: "1",
    });
    // Sealed with the first secret of a rotated list; read with the old one still listed.
    const rotated = await sessionEncode({
      token: { sub: "2" },
      secret: ["new-secret-new-secret-new-secret", SECRET],
      salt: "s",
    });
    expect(
      await decode({ token: rotated, secret: "new-secret-new-secret-new-secret", salt: "s" }),
    ).toMatchObject({ sub: "2" });
  });

  it("a session this process encoded is read back without a decrypt, exactly as decoding it would", async () => {
    const token = { sub: "1", roles: ["a"], skipped: undefined, when: new Date(0) };
    const encoded = await sessionEncode({ token, secret: SECRET, salt: "s", maxAge: 60 });
    const before = sessionDecodeStats();
    const remembered = await rememberedDecode({ token: encoded, secret: SECRET, salt: "s" });
    expect(decodesSince(before)).toBe(0);
    expect(remembered).toEqual(await decode({ token: encoded, secret: SECRET, salt: "s" }));
    // Read with another secret list, it is decrypted (and refused) as without the memory.
    await expect(
      rememberedDecode({ token: encoded, secret: "another-secret-another-secret-xx", salt: "s" }),
    ).rejects.toThrow();
  });

  it("a refresh through Auth.js's session read encodes once and decrypts at most once", async () => {
    const { config, browser, clock, backend } = await signedIn({ tokenPlacement: "mixed" });
    clock.advance(590);
    const before = sessionDecodeStats();
    const response = await Auth(
      new Request(`${ORIGIN}/auth/session`, { headers: { cookie: browser.cookieHeader() } }),
      config,
    );
    expect(response.status).toBe(200);
    expect(backend.stats.refreshSucceeded).toBe(1);
    const issued = response.headers
      .getSetCookie()
      .find((cookie) => cookie.startsWith(`${SESSION_COOKIE}=`));
    const value = issued?.slice(SESSION_COOKIE.length + 1).split(";")[0];
    // The rotated session the response carries is already known: reading it decrypts nothing.
    const afterRefresh = sessionDecodeStats();
    const read = await getBackendAuth(
      config,
      new Request(`${ORIGIN}/api/items`, { headers: { cookie: `${SESSION_COOKIE}=${value}` } }),
    );
    expect(read.refreshed).toBe(false);
    expect(decodesSince(before)).toBeLessThanOrEqual(1);
    expect(decodesSince(afterRefresh)).toBe(0);
  });

  it("reads what Auth.js's decode reads beyond its own writes: A256GCM content, no kid; refuses another kid", async () => {
    const key = async (length: number) =>
      new Uint8Array(
        await crypto.subtle.deriveBits(
          {
            name: "HKDF",
            hash: "SHA-256",
            salt: new TextEncoder().encode("s"),
            info: new TextEncoder().encode("Auth.js Generated Encryption Key (s)"),
          },
          await crypto.subtle.importKey("raw", new TextEncoder().encode(SECRET), "HKDF", false, [
            "deriveBits",
          ]),
          length * 8,
        ),
      );
    const gcmKey = await key(32);
    const gcm = await new EncryptJWT({ sub: "gcm" })
      .setProtectedHeader({
        alg: "dir",
        enc: "A256GCM",
        kid: await calculateJwkThumbprint({ kty: "oct", k: base64url.encode(gcmKey) }, "sha256"),
      })
      .setExpirationTime("1h")
      .encrypt(gcmKey);
    expect(await decode({ token: gcm, secret: SECRET, salt: "s" })).toMatchObject({ sub: "gcm" });
    expect(await rememberedDecode({ token: gcm, secret: SECRET, salt: "s" })).toMatchObject({
      sub: "gcm",
    });
    const noKid = await new EncryptJWT({ sub: "no-kid" })
      .setProtectedHeader({ alg: "dir", enc: "A256CBC-HS512" })
      .setExpirationTime("1h")
      .encrypt(await key(64));
    expect(await rememberedDecode({ token: noKid, secret: SECRET, salt: "s" })).toMatchObject({
      sub: "no-kid",
    });
    const otherKid = await new EncryptJWT({ sub: "x" })
      .setProtectedHeader({ alg: "dir", enc: "A256CBC-HS512", kid: "another-key" })
      .setExpirationTime("1h")
      .encrypt(await key(64));
    await expect(rememberedDecode({ token: otherKid, secret: SECRET, salt: "s" })).rejects.toThrow(
      /no matching decryption secret/,
    );
    await expect(decode({ token: otherKid, secret: SECRET, salt: "s" })).rejects.toThrow(
      /no matching decryption secret/,
    );
  });

  it("encodes with Auth.js's 30-day default lifetime, and refuses to encode without a secret", async () => {
    const token = await sessionEncode({ token: { sub: "1" }, secret: SECRET, salt: "s" });
    const read = await decode({ token, secret: SECRET, salt: "s" });
    expect((read?.exp ?? 0) - (read?.iat ?? 0)).toBe(30 * 24 * 60 * 60);
    await expect(sessionEncode({ token: {}, secret: [], salt: "s" })).rejects.toThrow(/secret/);
  });
});

describe("session JWT codec: the decode memory, its bounds and the encode, exactly", () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it("a missing or empty token is null: no decrypt, no memory hit, nothing remembered", async () => {
    for (const token of [undefined, ""]) {
      const read = await countersAround(() =>
        rememberedDecode({ token, secret: SECRET, salt: freshSalt() }),
      );
      expect(read).toEqual({ result: null, decodes: 0, hits: 0, entries: 0 });
    }
  });

  it("counts one decrypt for the first read of a token and one hit for each later read", async () => {
    const salt = freshSalt();
    const token = await encode({ token: { sub: "counted" }, secret: SECRET, salt });
    const first = await countersAround(() => rememberedDecode({ token, secret: SECRET, salt }));
    expect({ ...first, result: first.result?.sub }).toEqual({
      result: "counted",
      decodes: 1,
      hits: 0,
      entries: expect.any(Number),
    });
    const second = await countersAround(() => rememberedDecode({ token, secret: SECRET, salt }));
    expect({ ...second, result: second.result?.sub }).toEqual({
      result: "counted",
      decodes: 0,
      hits: 1,
      entries: 0,
    });
    expect(Object.keys(sessionDecodeStats()).sort()).toEqual(["decodes", "entries", "hits"]);
  });

  it("a fresh process starts with an empty memory and zero counters, and derives its keys anew", async () => {
    forgetProcessState("session-decode.v1");
    forgetProcessState("session-jwt-keys.v1");
    expect(sessionDecodeStats()).toEqual({ decodes: 0, hits: 0, entries: 0 });
    const salt = freshSalt();
    const token = await sessionEncode({ token: { sub: "fresh" }, secret: SECRET, salt });
    expect(sessionDecodeStats()).toEqual({ decodes: 0, hits: 0, entries: 1 });
    expect(await rememberedDecode({ token, secret: SECRET, salt })).toMatchObject({ sub: "fresh" });
    expect(sessionDecodeStats()).toEqual({ decodes: 0, hits: 1, entries: 1 });
    expect(await decode({ token, secret: SECRET, salt })).toMatchObject({ sub: "fresh" });
  });

  it("remembers exactly 128 sessions: the 129th evicts the oldest, the second oldest stays", async () => {
    const salt = freshSalt();
    const tokens: string[] = [];
    for (let i = 0; i < 129; i++) {
      tokens.push(await sessionEncode({ token: { sub: String(i) }, secret: SECRET, salt }));
    }
    expect(sessionDecodeStats().entries).toBe(128);
    const [oldest = "", secondOldest = ""] = tokens;
    expect(
      await decodesOf(() => rememberedDecode({ token: secondOldest, secret: SECRET, salt })),
    ).toBe(0);
    expect(await decodesOf(() => rememberedDecode({ token: oldest, secret: SECRET, salt }))).toBe(
      1,
    );
    expect(sessionDecodeStats().entries).toBe(128);
  });

  it("forgets a remembered session exactly 60 s after remembering it", async () => {
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(T0);
    const salt = freshSalt();
    const token = await encode({ token: { sub: "1" }, secret: SECRET, salt, maxAge: 3600 });
    const read = () => rememberedDecode({ token, secret: SECRET, salt });
    expect(await decodesOf(read)).toBe(1);
    vi.setSystemTime(T0 + 59_999);
    expect(await decodesOf(read)).toBe(0);
    vi.setSystemTime(T0 + 60_000);
    expect(await decodesOf(read)).toBe(1);
  });

  it("a remembered session is answered from memory until exp + 15 s, then refused as a decode would, and forgotten", async () => {
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(T0);
    const salt = freshSalt();
    const token = await encode({ token: { sub: "1" }, secret: SECRET, salt, maxAge: 30 });
    const exp = T0 / 1000 + 30;
    const read = () => rememberedDecode({ token, secret: SECRET, salt });
    expect(await decodesOf(read)).toBe(1);
    // At exp and up to the tolerance, every read is a hit (no re-decode, nothing forgotten).
    for (const at of [exp * 1000, (exp + 15) * 1000 - 1]) {
      vi.setSystemTime(at);
      const hit = await countersAround(read);
      expect({ ...hit, result: hit.result?.exp }).toEqual({
        result: exp,
        decodes: 0,
        hits: 1,
        entries: 0,
      });
    }
    vi.setSystemTime((exp + 15) * 1000 + 1);
    await expect(read()).rejects.toThrow('"exp" claim timestamp check failed');
    await expect(decode({ token, secret: SECRET, salt })).rejects.toThrow(
      '"exp" claim timestamp check failed',
    );
    // Forgotten: the next reader decrypts again (and is refused again).
    const before = sessionDecodeStats();
    await expect(read()).rejects.toThrow('"exp" claim timestamp check failed');
    expect(decodesSince(before)).toBe(1);
  });

  it("a token not yet remembered is accepted up to 15 s past exp and refused from then on, as Auth.js does", async () => {
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(T0);
    const exp = T0 / 1000 + 30;
    const salt = freshSalt();
    const lateButTolerated = await encode({
      token: { sub: "1" },
      secret: SECRET,
      salt,
      maxAge: 30,
    });
    const tooLate = await encode({ token: { sub: "2" }, secret: SECRET, salt, maxAge: 30 });
    vi.setSystemTime((exp + 14) * 1000);
    expect(await rememberedDecode({ token: lateButTolerated, secret: SECRET, salt })).toMatchObject(
      {
        sub: "1",
      },
    );
    expect(await decode({ token: lateButTolerated, secret: SECRET, salt })).toMatchObject({
      sub: "1",
    });
    vi.setSystemTime((exp + 15) * 1000);
    await expect(rememberedDecode({ token: tooLate, secret: SECRET, salt })).rejects.toThrow(
      '"exp" claim timestamp check failed',
    );
    await expect(decode({ token: tooLate, secret: SECRET, salt })).rejects.toThrow(
      '"exp" claim timestamp check failed',
    );
  });

  it("a single secret and a list of only it are the same secrets: the remembered session answers", async () => {
    const salt = freshSalt();
    const token = await sessionEncode({ token: { sub: "1" }, secret: [SECRET], salt });
    expect(await decodesOf(() => rememberedDecode({ token, secret: SECRET, salt }))).toBe(0);
    expect(await decodesOf(() => rememberedDecode({ token, secret: [SECRET], salt }))).toBe(0);
    const listed = await sessionEncode({ token: { sub: "2" }, secret: SECRET, salt });
    expect(await decodesOf(() => rememberedDecode({ token: listed, secret: [SECRET], salt }))).toBe(
      0,
    );
  });

  it("another secret list (longer, reordered, one secret changed) or another salt reads the token afresh", async () => {
    const salt = freshSalt();
    const token = await sessionEncode({
      token: { sub: "1" },
      secret: [SECRET, OTHER_SECRET],
      salt,
    });
    const readWith = (secret: string | string[], withSalt = salt) =>
      countersAround(async () =>
        rememberedDecode({ token, secret, salt: withSalt }).then(
          (payload) => payload?.sub,
          (error: Error) => error.message,
        ),
      );
    // Same list, another array: answered from memory.
    expect(await readWith([SECRET, OTHER_SECRET])).toMatchObject({
      result: "1",
      decodes: 0,
      hits: 1,
    });
    // A prefix of it is not the same list.
    expect(await readWith([SECRET])).toMatchObject({ result: "1", decodes: 1, hits: 0 });
    // Longer than the remembered list (now [SECRET]).
    expect(await readWith([SECRET, OTHER_SECRET])).toMatchObject({ result: "1", decodes: 1 });
    // Same first secret, another second one: a new decrypt (still decodes with the first).
    expect(await readWith([SECRET, THIRD_SECRET])).toMatchObject({ result: "1", decodes: 1 });
    // Reordered: the sealing secret is found second.
    expect(await readWith([THIRD_SECRET, SECRET])).toMatchObject({ result: "1", decodes: 1 });
    // Same length, the sealing secret missing: decrypted afresh and refused.
    expect(await readWith([THIRD_SECRET, OTHER_SECRET])).toMatchObject({
      result: "no matching decryption secret",
      decodes: 1,
    });
    // Another salt (cookie name) with the right secret: decrypted afresh and refused.
    await rememberedDecode({ token, secret: SECRET, salt });
    const otherSalt = await readWith(SECRET, freshSalt());
    expect(otherSalt).toMatchObject({ result: "no matching decryption secret", decodes: 1 });
  });

  it("a token that does not decode is not remembered: each reader decrypts and is refused again", async () => {
    const salt = freshSalt();
    const foreign = await encode({ token: { sub: "1" }, secret: OTHER_SECRET, salt });
    for (let attempt = 0; attempt < 2; attempt++) {
      const before = sessionDecodeStats();
      await expect(rememberedDecode({ token: foreign, secret: SECRET, salt })).rejects.toThrow(
        "no matching decryption secret",
      );
      expect(decodesSince(before)).toBe(1);
      expect(sessionDecodeStats().hits - before.hits).toBe(0);
    }
    await expect(rememberedDecode({ token: "not.a.jwe", secret: SECRET, salt })).rejects.toThrow();
  });

  it("sessionDecodeOf: the app's own jwt.decode when it has one, else the remembered decode", () => {
    const own = async () => null;
    expect(sessionDecodeOf({ jwt: { decode: own } })).toBe(own);
    expect(sessionDecodeOf({ jwt: {} })).toBe(rememberedDecode);
    expect(sessionDecodeOf({})).toBe(rememberedDecode);
  });

  it("encodes the token with iat = now in whole seconds, exp = iat + maxAge and a new jti, and remembers exactly that", async () => {
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(T0 + 999);
    const salt = freshSalt();
    const iat = T0 / 1000;
    const encoded = await sessionEncode({
      token: { sub: "1", name: "Zoë" },
      secret: SECRET,
      salt,
      maxAge: 120,
    });
    const theirs = await decode({ token: encoded, secret: SECRET, salt });
    expect(theirs).toEqual({ sub: "1", name: "Zoë", iat, exp: iat + 120, jti: expect.any(String) });
    // Read twice from memory: the same claims, no decrypt (the remembered exp is the real one).
    const reads = await countersAround(async () => [
      await rememberedDecode({ token: encoded, secret: SECRET, salt }),
      await rememberedDecode({ token: encoded, secret: SECRET, salt }),
    ]);
    expect(reads).toEqual({ result: [theirs, theirs], decodes: 0, hits: 2, entries: 0 });
    const again = await sessionEncode({ token: { sub: "1" }, secret: SECRET, salt });
    expect((await decode({ token: again, secret: SECRET, salt }))?.jti).not.toBe(theirs?.jti);
  });

  it("encodes without a token as Auth.js does: only iat, exp and jti", async () => {
    const salt = freshSalt();
    const encoded = await sessionEncode({ secret: SECRET, salt, maxAge: 60 });
    const read = await decode({ token: encoded, secret: SECRET, salt });
    expect(Object.keys(read ?? {}).sort()).toEqual(["exp", "iat", "jti"]);
    expect(await rememberedDecode({ token: encoded, secret: SECRET, salt })).toEqual(read);
  });

  it("refuses to encode without a secret, with its own message", async () => {
    await expect(sessionEncode({ token: {}, secret: [], salt: freshSalt() })).rejects.toThrow(
      new Error("no secret to encode the session with"),
    );
  });

  it("encodes under each cookie name's own key, as Auth.js derives it", async () => {
    const [first, second] = [freshSalt(), freshSalt()];
    const a = await sessionEncode({ token: { sub: "a" }, secret: SECRET, salt: first });
    const b = await sessionEncode({ token: { sub: "b" }, secret: OTHER_SECRET, salt: second });
    expect(await decode({ token: a, secret: SECRET, salt: first })).toMatchObject({ sub: "a" });
    expect(await decode({ token: b, secret: OTHER_SECRET, salt: second })).toMatchObject({
      sub: "b",
    });
    expect(decodeProtectedHeader(a).kid).not.toBe(decodeProtectedHeader(b).kid);
  });
});
