import { fromBase64Url, toBase64Url } from "./base64url.js";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** HKDF salt and info: name this purpose, so the key differs from every key Auth.js derives. */
const SALT = encoder.encode("authjs-backend-credentials shared refresh outcome");
const INFO = encoder.encode("AES-256-GCM v1");
/** Format marker of a sealed value; also keeps it from parsing as JSON (Upstash parses JSON). */
const VERSION = "v1";
const IV_BYTES = 12;

/**
 * @internal Encrypts short strings with AES-256-GCM under keys derived by HKDF-SHA-256 from the
 * Auth.js secret(s). The first secret encrypts, all of them decrypt (secret rotation). Keys are
 * derived once, on first use. WebCrypto, so it runs on Node and edge runtimes alike.
 */
export interface SealedBox {
  /** `v1.<iv>.<ciphertext>` (base64url); `context` is bound as additional authenticated data. */
  seal(plaintext: string, context: string): Promise<string>;
  /** The plaintext, or `undefined` when `sealed` is malformed, tampered with or under another secret. */
  open(sealed: string, context: string): Promise<string | undefined>;
}

/** @internal */
export function sealedBox(secrets: readonly string[]): SealedBox {
  let keys: Promise<CryptoKey[]> | undefined;
  const keysOnce = () => {
    keys ??= Promise.all(secrets.map(deriveKey)).catch((error: unknown) => {
      keys = undefined;
      throw error;
    });
    return keys;
  };
  return {
    async seal(plaintext, context) {
      const [key] = await keysOnce();
      if (!key) throw new TypeError("sealedBox: no secret");
      const iv = crypto.getRandomValues(new Uint8Array(IV_BYTES));
      const ciphertext = await crypto.subtle.encrypt(
        { name: "AES-GCM", iv, additionalData: encoder.encode(context) },
        key,
        encoder.encode(plaintext),
      );
      return `${VERSION}.${toBase64Url(iv)}.${toBase64Url(new Uint8Array(ciphertext))}`;
    },
    async open(sealed, context) {
      const [version, ivText, ciphertextText, ...rest] = sealed.split(".");
      if (version !== VERSION || !ivText || !ciphertextText || rest.length > 0) return undefined;
      const iv = fromBase64Url(ivText);
      const ciphertext = fromBase64Url(ciphertextText);
      if (iv?.length !== IV_BYTES || !ciphertext) return undefined;
      for (const key of await keysOnce()) {
        try {
          const plaintext = await crypto.subtle.decrypt(
            { name: "AES-GCM", iv, additionalData: encoder.encode(context) },
            key,
            ciphertext,
          );
          return decoder.decode(plaintext);
        } catch {
          // wrong key or tampered: try the next secret
        }
      }
      return undefined;
    },
  };
}

async function deriveKey(secret: string): Promise<CryptoKey> {
  const material = await crypto.subtle.importKey("raw", encoder.encode(secret), "HKDF", false, [
    "deriveKey",
  ]);
  return crypto.subtle.deriveKey(
    { name: "HKDF", hash: "SHA-256", salt: SALT, info: INFO },
    material,
    { name: "AES-GCM", length: 256 },
    false,
    ["encrypt", "decrypt"],
  );
}
