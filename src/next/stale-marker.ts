import { authSecrets } from "../lib/auth-secrets.js";
import { hmacSha256 } from "../lib/hash.js";
import type { BackendTokenState } from "../model/types.js";
import type { ResolvedAuthConfig } from "./context.js";

/**
 * The `stale` parameter our own redirects carry to the refresh and expired routes: an HMAC under
 * the Auth.js secret of the session's current tokens (provider and receive time). It names the
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
    if ((await hmacSha256(secret, messageOf(state))) === value) return true;
  }
  return false;
}

const messageOf = (state: BackendTokenState) =>
  `authjs-backend-credentials:stale:${state.provider}:${state.receivedAt}`;
