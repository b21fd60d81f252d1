/**
 * Readers of the Auth.js session cookie a client holds (whole, or in chunks `.0`, `.1`, …) and of
 * the backend state inside it.
 */
import { decode, type JWT } from "@auth/core/jwt";
import type { BackendTokenState } from "../../src/index.js";
import type { AuthClient } from "./auth-client.js";
import { SECRET, SESSION_COOKIE } from "./constants.js";

/** Decrypts a session cookie value sealed with the test secret, or `null` without a value. */
export async function decodeSessionCookie(value: string | undefined): Promise<JWT | null> {
  if (!value) return null;
  return decode({ token: value, secret: SECRET, salt: SESSION_COOKIE });
}

/** The session cookie as Auth.js reads it: the plain cookie, or its chunks `.0`, `.1`, … joined. */
export function sessionCookieOf(client: AuthClient, name = SESSION_COOKIE): string | undefined {
  const chunks = chunkNames(client, name);
  if (chunks.length === 0) return client.cookies.get(name);
  return chunks.map((chunk) => client.cookies.get(chunk)).join("");
}

/** Names of the chunk cookies (`name.0`, `name.1`, …) the client holds, in order. */
export function chunkNames(client: AuthClient, name = SESSION_COOKIE): string[] {
  const pattern = new RegExp(`^${name.replace(/\./g, "\\.")}\\.(\\d+)$`);
  return [...client.cookies.keys()]
    .filter((cookie) => pattern.test(cookie))
    .sort((a, b) => Number(pattern.exec(a)?.[1]) - Number(pattern.exec(b)?.[1]));
}

/** Decrypts the client's (possibly chunked) session cookie with `secret`. */
export async function decodeSession(
  client: AuthClient,
  secret: string | string[] = SECRET,
): Promise<JWT | null> {
  const token = sessionCookieOf(client);
  return token ? decode({ token, secret, salt: SESSION_COOKIE }) : null;
}

/** The refresh token a session's backend state holds (body field or backend cookie). */
export function refreshTokenOf(state: BackendTokenState | undefined): string | undefined {
  return (
    state?.refreshToken ?? state?.cookies.find((cookie) => cookie.name === "refresh_token")?.value
  );
}
