import { emit } from "../model/events.js";
import type { BackendTokenState, RefreshMode } from "../model/types.js";
import { callBackend, describeFailure, isTimeout, redirectHint } from "./backend-http.js";
import { refreshIfNeeded } from "./refresh.js";
import type { Runtime } from "./runtime.js";
import {
  accessTokenOf,
  eventBase,
  isEnded,
  needsRefresh,
  nowSeconds,
  refreshGrantOf,
} from "./state.js";

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
  if (!options.logout || isEnded(state)) return;
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
  let result = await callLogout(runtime, current);
  if (result.status === 401 && !refreshed && options.refresh && refreshGrantOf(runtime, current)) {
    await refreshOnce("force");
    if (current !== state) result = await callLogout(runtime, current);
  }
  if (result.status !== undefined && result.status < 300) return;
  if (result.status !== undefined && result.status < 400) {
    options.logger.error(
      `logout: ${redirectHint(options.logout!, result.location ?? null, result.status)}; the backend session may stay alive`,
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

async function callLogout(
  runtime: Runtime,
  state: BackendTokenState,
): Promise<
  | { status: number; location: string | null; reason?: never }
  | { status?: undefined; location?: undefined; reason: "NetworkError" | "Timeout" }
> {
  const { options } = runtime;
  const refreshToken = refreshGrantOf(runtime, state)?.token;
  try {
    const response = await callBackend(options, options.logout!, {
      body:
        refreshToken && state.refreshTokenField && options.echoRefreshField
          ? { [state.refreshTokenField]: refreshToken }
          : options.logoutBody(refreshToken),
      bearer: accessTokenOf(runtime, state),
      jar: state.cookies,
      nowSeconds: nowSeconds(runtime),
    });
    return { status: response.status, location: response.headers.get("location") };
  } catch (error) {
    options.logger.warn(`logout: ${describeFailure(error)}`);
    const timedOut = isTimeout(error);
    return { reason: timedOut ? "Timeout" : "NetworkError" };
  }
}
