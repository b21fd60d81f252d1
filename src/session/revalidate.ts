import type { RefreshOutcome } from "../model/coordinator.js";
import type { BackendTokenState } from "../model/types.js";
import { describeFailure } from "./backend-http.js";
import { callLogout } from "./logout-call.js";
import { isAllowed, ProfileRefused, readUser } from "./profile.js";
import type { Runtime } from "./runtime.js";
import { nowSeconds } from "./state.js";

/** @internal Is a profile re-read due for a session whose tokens were just rotated? */
export function revalidationDue(runtime: Runtime, state: BackendTokenState): boolean {
  const { profile, profileRevalidationSeconds } = runtime.options;
  if (!profile || profileRevalidationSeconds === false) return false;
  const readAt = state.profileReadAt ?? state.signedInAt ?? state.receivedAt;
  return nowSeconds(runtime) - readAt >= profileRevalidationSeconds;
}

/**
 * @internal Re-reads the profile with freshly rotated tokens (`rotated`, the session as it will
 * be) and re-applies `allowedRoles` / `authorizeUser`. Returns the outcome to share: the rotation
 * with the new profile; the rotation unchanged when the profile could not be read for a transient
 * reason (the old profile stays, retried at the next refresh); or `AccessRevoked` when the user is
 * no longer allowed or the profile endpoint refuses the new token, after logging the backend
 * session out.
 */
export async function revalidate(
  runtime: Runtime,
  rotated: BackendTokenState,
  outcome: Extract<RefreshOutcome, { kind: "rotated" }>,
): Promise<RefreshOutcome> {
  const { logger } = runtime.options;
  let reason: string;
  try {
    const user = await readUser(runtime, rotated, undefined);
    if (await isAllowed(runtime, user)) {
      return { ...outcome, user, profileReadAt: nowSeconds(runtime) };
    }
    reason = "the user is no longer allowed (allowedRoles / authorizeUser)";
  } catch (error) {
    if (!(error instanceof ProfileRefused)) {
      logger.warn(
        `refresh: profile re-read failed (${describeFailure(error)}); the old profile is kept`,
      );
      return outcome;
    }
    reason = `the profile endpoint refused the new token (${error.status})`;
  }
  logger.warn(`refresh: ${reason}; session ended (AccessRevoked)`);
  // Without a logout endpoint there is no backend session to end beyond the tokens we drop.
  const { logout } = runtime.options;
  if (logout) {
    const ended = await callLogout(runtime, logout, rotated);
    if (ended.status === undefined || ended.status >= 300) {
      logger.warn(
        "refresh: the backend logout after AccessRevoked did not confirm the end of the session",
      );
    }
  }
  return { kind: "rejected", error: "AccessRevoked" };
}
