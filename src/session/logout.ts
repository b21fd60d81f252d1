import { emit } from "../model/events.js";
import type { BackendTokenState, RefreshMode } from "../model/types.js";
import { redirectHint } from "./backend-http.js";
import { callLogout } from "./logout-call.js";
import { refreshIfNeeded } from "./refresh.js";
import type { Runtime } from "./runtime.js";
import { eventBase, isEnded, needsRefresh, refreshGrantOf } from "./state.js";

/**
 * @internal Ends the backend session: calls the logout endpoint with the session's refresh token,
 * access token and cookies. A logout endpoint that needs a valid access token gets one: when the
 * access token is due, the session is refreshed first (through the coordinator, so a refresh
 * racing in another request is joined, not repeated), and when the endpoint answers 401 while a
 * refresh is still possible, it is refreshed once and the logout retried once. A logout that
 * still fails is logged and reported through `events.logoutFailed`; never thrown.
 */
export async function logoutFromBackend(runtime: Runtime, state: BackendTokenState): Promise<void> {
  const { options } = runtime;
  const { logout } = options;
  if (!logout || isEnded(state)) return;
  let current = state;
  let refreshed = false;
  const refreshOnce = async (mode: RefreshMode) => {
    refreshed = true;
    const next = await refreshIfNeeded(runtime, current, mode);
    // An ended or unavailable session keeps its tokens for the logout attempt: they may still
    // identify the backend session.
    if (!isEnded(next) && next.error === undefined) current = next;
  };
  if (options.refresh && needsRefresh(runtime, current)) await refreshOnce("auto");
  let result = await callLogout(runtime, logout, current);
  if (result.status === 401 && !refreshed && options.refresh && refreshGrantOf(runtime, current)) {
    await refreshOnce("force");
    if (current !== state) result = await callLogout(runtime, logout, current);
  }
  if (result.status !== undefined && result.status < 300) return;
  if (result.status !== undefined && result.status < 400) {
    options.logger.error(
      `logout: ${redirectHint(logout, result.location ?? null, result.status)}; the backend session may stay alive`,
    );
  } else if (result.status !== undefined) {
    options.logger.warn(
      `logout: backend answered ${result.status}; the backend session may stay alive`,
    );
  }
  emit(options.events, options.logger, "logoutFailed", {
    ...eventBase(runtime, state),
    ...(result.status === undefined
      ? { reason: result.reason }
      : { reason: "ErrorStatus", status: result.status }),
  });
}
