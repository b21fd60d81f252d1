import { toBase64Url } from "./base64url.js";

const encoder = new TextEncoder();

/**
 * @internal SHA-256 of `text`, base64url. Used to key caches by refresh token without storing
 * the token. WebCrypto, so it runs on Node and edge runtimes alike.
 */
export async function sha256(text: string): Promise<string> {
  return toBase64Url(new Uint8Array(await crypto.subtle.digest("SHA-256", encoder.encode(text))));
}

/**
 * HMAC-SHA-256 of `message` under `secret`, base64url, truncated to `bytes` bytes (128 bits by
 * default). WebCrypto.
 */
export async function hmacSha256(secret: string, message: string, bytes = 16): Promise<string> {
  const key = await hmacKey(secret);
  const mac = new Uint8Array(await crypto.subtle.sign("HMAC", key, encoder.encode(message)));
  return toBase64Url(mac.slice(0, bytes));
}

/** Imported HMAC keys by secret: the few Auth.js secrets are imported once, not per request. */
const hmacKeys = new Map<string, Promise<CryptoKey>>();

function hmacKey(secret: string): Promise<CryptoKey> {
  let key = hmacKeys.get(secret);
  if (!key) {
    key = crypto.subtle.importKey(
      "raw",
      encoder.encode(secret),
      { name: "HMAC", hash: "SHA-256" },
      false,
      ["sign"],
    );
    hmacKeys.set(secret, key);
  }
  return key;
}
