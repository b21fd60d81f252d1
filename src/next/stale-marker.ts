import { authSecrets } from "../lib/auth-secrets.js";
import { hmacSha256 } from "../lib/hash.js";
import type { BackendTokenState } from "../model/types.js";
import type { ResolvedAuthConfig } from "./context.js";

/**
 * The `stale` parameter our own redirects carry to the refresh and expired routes: an HMAC under
 * the Auth.js secret of the session's current tokens (provider, receive time, the tokens and
 * backend cookies themselves), so it is unique to one session's current tokens. It names the
 * tokens that failed, and it vouches that the redirect came from this app: another site cannot
 * compute it, so a cross-site request without it never refreshes or signs out a live session.
 */
export function staleMarker(config: ResolvedAuthConfig, state: BackendTokenState): Promise<string> {
  const [secret] = authSecrets(config);
  return secret ? hmacSha256(secret, messageOf(state)) : Promise.resolve("");
}

/** Does `value` name the session's current tokens? (Any of the Auth.js secrets, for rotation.) */
export async function isStaleMarker(
  config: ResolvedAuthConfig,
  state: BackendTokenState,
  value: string | null,
): Promise<boolean> {
  if (!value) return false;
  for (const secret of authSecrets(config)) {
    if (sameString(await hmacSha256(secret, messageOf(state)), value)) return true;
  }
  return false;
}

/** What the marker authenticates: its purpose and the session's current tokens. */
const messageOf = (state: BackendTokenState) =>
  JSON.stringify([
    "authjs-backend-credentials:stale-marker:v1",
    state.provider,
    state.receivedAt,
    state.accessToken ?? null,
    state.refreshToken ?? null,
    state.cookies.map((cookie) => `${cookie.name}=${cookie.value}`),
  ]);

/** Compares two strings in time that depends only on their length. */
function sameString(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let difference = 0;
  for (let i = 0; i < a.length; i++) difference |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return difference === 0;
}
