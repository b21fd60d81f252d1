import type { ResolvedEndpoint } from "../model/options.js";
import type { BackendTokenState } from "../model/types.js";
import { callBackend, describeFailure, isTimeout } from "./backend-http.js";
import type { Runtime } from "./runtime.js";
import { accessTokenOf, grantBody, nowSeconds, refreshGrantOf } from "./state.js";

/**
 * @internal One call to the `logout` endpoint with the session's refresh token (in the logout
 * body), access token and cookies. Never throws: a failure is a status or a reason.
 */
export async function callLogout(
  runtime: Runtime,
  logout: ResolvedEndpoint,
  state: BackendTokenState,
): Promise<
  | { status: number; location: string | null; reason?: never }
  | { status?: undefined; location?: undefined; reason: "NetworkError" | "Timeout" }
> {
  const { options } = runtime;
  const refreshToken = refreshGrantOf(runtime, state)?.token;
  try {
    const response = await callBackend(options, logout, {
      body: grantBody(runtime, state, refreshToken, options.logoutBody),
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
