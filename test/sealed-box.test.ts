/**
 * The sealed box (what RedisCoordinator stores): its wire format `v1.<iv>.<ciphertext>`, the key
 * derivation another process or version must repeat to read it (HKDF-SHA-256 of the secret, fixed
 * salt and info, AES-256-GCM, 12-byte IV), the context bound as additional data, secret rotation
 * (first secret seals, all open), and every malformed or foreign value opening to `undefined`.
 */
import { describe, expect, it } from "vitest";
import { toBase64Url } from "../src/lib/base64url.js";
import { sealedBox } from "../src/lib/sealed-box.js";

const SECRET = "sealed-box-secret-at-least-32-characters";
const NEW_SECRET = "sealed-box-new-secret-32-characters-long";
const CONTEXT = "refresh:k1";

/** The key a compatible implementation derives from `secret` (the documented derivation). */
async function compatibleKey(secret: string): Promise<CryptoKey> {
  const encoder = new TextEncoder();
  const material = await crypto.subtle.importKey("raw", encoder.encode(secret), "HKDF", false, [
    "deriveKey",
  ]);
  return crypto.subtle.deriveKey(
    {
      name: "HKDF",
      hash: "SHA-256",
      salt: encoder.encode("authjs-backend-credentials shared refresh outcome"),
      info: encoder.encode("AES-256-GCM v1"),
    },
    material,
    { name: "AES-GCM", length: 256 },
    false,
    ["encrypt"],
  );
}

/** `plaintext` sealed as a compatible implementation would, with an IV of `ivBytes` bytes. */
async function sealedElsewhere(
  plaintext: string,
  context: string,
  { secret = SECRET, ivBytes = 12 } = {},
): Promise<string> {
  const encoder = new TextEncoder();
  const iv = crypto.getRandomValues(new Uint8Array(ivBytes));
  const ciphertext = await crypto.subtle.encrypt(
    { name: "AES-GCM", iv, additionalData: encoder.encode(context) },
    await compatibleKey(secret),
    encoder.encode(plaintext),
  );
  return `v1.${toBase64Url(iv)}.${toBase64Url(new Uint8Array(ciphertext))}`;
}

/** The three dot-separated parts of a sealed value. */
function partsOf(sealed: string): [string, string, string] {
  const [version = "", iv = "", ciphertext = ""] = sealed.split(".");
  return [version, iv, ciphertext];
}

describe("sealedBox", () => {
  it("seals to v1.<16-character IV>.<ciphertext + 16-byte tag>, base64url, and opens it again", async () => {
    const box = sealedBox([SECRET]);
    const sealed = await box.seal("hello", CONTEXT);
    // 12-byte IV: 16 characters; 5 bytes of text + 16 of tag = 21 bytes: 28 characters.
    expect(sealed).toMatch(/^v1\.[\w-]{16}\.[\w-]{28}$/);
    expect(await box.open(sealed, CONTEXT)).toBe("hello");
  });

  it("round-trips the empty string and non-ASCII text", async () => {
    const box = sealedBox([SECRET]);
    for (const plaintext of ["", '{"kind":"rotated","user":"Zoë 🔑"}']) {
      expect(await box.open(await box.seal(plaintext, CONTEXT), CONTEXT)).toBe(plaintext);
    }
  });

  it("uses a fresh IV for every seal: the same text seals differently each time", async () => {
    const box = sealedBox([SECRET]);
    const first = await box.seal("same", CONTEXT);
    const second = await box.seal("same", CONTEXT);
    expect(partsOf(first)[1]).not.toBe(partsOf(second)[1]);
    expect(first).not.toBe(second);
  });

  it("binds the context: a value opened under another context is refused", async () => {
    const box = sealedBox([SECRET]);
    const sealed = await box.seal("hello", "refresh:k1");
    expect(await box.open(sealed, "refresh:k2")).toBeUndefined();
    expect(await box.open(sealed, "")).toBeUndefined();
  });

  it("opens what a compatible implementation sealed with the same secret (HKDF-SHA-256, fixed salt and info)", async () => {
    const box = sealedBox([SECRET]);
    expect(await box.open(await sealedElsewhere("from elsewhere", CONTEXT), CONTEXT)).toBe(
      "from elsewhere",
    );
    expect(
      await box.open(
        await sealedElsewhere("other secret", CONTEXT, { secret: NEW_SECRET }),
        CONTEXT,
      ),
    ).toBeUndefined();
  });

  it("refuses an IV that is not 12 bytes even when it authenticates", async () => {
    const box = sealedBox([SECRET]);
    for (const ivBytes of [13, 16]) {
      const sealed = await sealedElsewhere("odd iv", CONTEXT, { ivBytes });
      expect(await box.open(sealed, CONTEXT)).toBeUndefined();
    }
  });

  it("secret rotation: the first secret seals, every listed secret opens", async () => {
    const oldBox = sealedBox([SECRET]);
    const rotated = sealedBox([NEW_SECRET, SECRET]);
    const newOnly = sealedBox([NEW_SECRET]);
    expect(await rotated.open(await oldBox.seal("old", CONTEXT), CONTEXT)).toBe("old");
    const sealedNow = await rotated.seal("new", CONTEXT);
    expect(await newOnly.open(sealedNow, CONTEXT)).toBe("new");
    expect(await oldBox.open(sealedNow, CONTEXT)).toBeUndefined();
  });

  it("a value sealed under another secret opens to undefined", async () => {
    const sealed = await sealedBox([NEW_SECRET]).seal("hello", CONTEXT);
    expect(await sealedBox([SECRET]).open(sealed, CONTEXT)).toBeUndefined();
  });

  it("malformed, truncated or tampered values open to undefined, never throw", async () => {
    const box = sealedBox([SECRET]);
    const sealed = await box.seal("hello", CONTEXT);
    const [version, iv, ciphertext] = partsOf(sealed);
    const flipped = `${ciphertext.slice(0, 5)}${ciphertext[5] === "A" ? "B" : "A"}${ciphertext.slice(6)}`;
    const malformed = {
      empty: "",
      "version only": version,
      "no ciphertext part": `${version}.${iv}`,
      "empty IV": `${version}..${ciphertext}`,
      "empty ciphertext": `${version}.${iv}.`,
      "another version": `v2.${iv}.${ciphertext}`,
      "upper-case version": `V1.${iv}.${ciphertext}`,
      "a fourth part": `${sealed}.x`,
      "an empty fourth part": `${sealed}.`,
      "IV not base64url": `${version}.${iv.slice(0, 15)}+.${ciphertext}`,
      "ciphertext not base64url": `${version}.${iv}.${ciphertext.slice(0, 27)}/`,
      "IV one character short": `${version}.${iv.slice(0, 15)}.${ciphertext}`,
      "ciphertext truncated": `${version}.${iv}.${ciphertext.slice(0, 24)}`,
      "ciphertext tampered": `${version}.${iv}.${flipped}`,
      "IV of another seal": `${version}.${partsOf(await box.seal("hello", CONTEXT))[1]}.${ciphertext}`,
    };
    const opened = Object.fromEntries(
      await Promise.all(
        Object.entries(malformed).map(async ([name, value]) => [
          name,
          await box.open(value, CONTEXT),
        ]),
      ),
    );
    expect(opened).toEqual(
      Object.fromEntries(Object.keys(malformed).map((name) => [name, undefined])),
    );
    // The untouched value still opens: each case above fails on its own defect.
    expect(await box.open(sealed, CONTEXT)).toBe("hello");
  });

  it("without a secret, sealing throws a TypeError and nothing opens", async () => {
    const box = sealedBox([]);
    await expect(box.seal("hello", CONTEXT)).rejects.toThrow(new TypeError("sealedBox: no secret"));
    expect(
      await box.open(await sealedBox([SECRET]).seal("hello", CONTEXT), CONTEXT),
    ).toBeUndefined();
  });

  it("a failed key derivation is not remembered: the next call derives the keys again", async () => {
    let conversions = 0;
    // A secret whose first conversion to text fails (as a transient WebCrypto failure would).
    const flaky = {
      [Symbol.toPrimitive]() {
        conversions++;
        if (conversions === 1) throw new Error("derivation failed");
        return SECRET;
      },
    } as unknown as string;
    const box = sealedBox([flaky]);
    await expect(box.seal("hello", CONTEXT)).rejects.toThrow("derivation failed");
    const sealed = await box.seal("hello", CONTEXT);
    expect(await sealedBox([SECRET]).open(sealed, CONTEXT)).toBe("hello");
    // Derived once after the failure, then remembered.
    await box.seal("again", CONTEXT);
    expect(conversions).toBe(2);
  });
});
