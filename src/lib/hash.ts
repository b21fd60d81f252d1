import { toBase64Url } from "./base64url.js";

const encoder = new TextEncoder();

/**
 * @internal SHA-256 of `text`, base64url. Used to key caches by refresh token without storing
 * the token. WebCrypto, so it runs on Node and edge runtimes alike.
 */
export async function sha256(text: string): Promise<string> {
  return toBase64Url(new Uint8Array(await crypto.subtle.digest("SHA-256", encoder.encode(text))));
}
