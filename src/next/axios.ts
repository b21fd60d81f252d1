import type { AxiosInstance } from "axios";
import { withBackendAuth } from "../axios/backend-axios.js";
import type { NextContext } from "./context.js";
import { backendBaseUrl, refreshRedirect, resolveAuth } from "./fetch.js";

/**
 * @internal `backend.axios(instance)`: {@link withBackendAuth} with the redirects of
 * `backend.fetch`. Credentials go only to the provider's origin (relative URLs of an instance
 * without `baseURL` resolve against it). No session → sign-in; expired here, or a 401 from the
 * backend → `refreshPath` (which refreshes once, saves the cookie and redirects back, so the
 * request runs again with the new token); ended → `expiredPath`. Never writes cookies, so it
 * works in Server Components, server actions and route handlers alike.
 */
export function createBackendAxios(
  context: NextContext,
): (instance: AxiosInstance) => AxiosInstance {
  return (instance) =>
    withBackendAuth(instance, {
      baseUrl: backendBaseUrl(context),
      getAuth: async (mode) => {
        const resolved = await resolveAuth(context);
        // Refreshing needs a cookie write: only the refresh route can do it.
        if (mode !== "never") return refreshRedirect(context, resolved);
        return resolved.auth;
      },
    });
}
