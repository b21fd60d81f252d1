import { Auth } from "@auth/core";
import { decode, encode } from "@auth/core/jwt";
import { base64url, calculateJwkThumbprint, decodeProtectedHeader, EncryptJWT } from "jose";
import { afterEach, describe, expect, it, vi } from "vitest";
import { getBackendAuth } from "../src/index.js";
import { rememberedDecode, sessionDecodeStats, sessionEncode } from "../src/session/session-jwt.js";
import { decodeSession, ORIGIN, SECRET, SESSION_COOKIE, signedIn } from "./harness/index.js";

const decodesSince = (before: { decodes: number }) => sessionDecodeStats().decodes - before.decodes;

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
