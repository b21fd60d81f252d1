import { BackendAuthError, BackendSignInError } from "../model/errors.js";
import type { BackendTokenState } from "../model/types.js";
import {
  backendErrorCode,
  callBackend,
  isConfigurationError,
  isTransientStatus,
  redirectHint,
} from "./backend-http.js";
import { fitSession, logRefusals, sessionBytes } from "./budget.js";
import { applyCookieChanges } from "./cookie-jar.js";
import { logoutFromBackend } from "./logout.js";
import { isAllowed, readUser } from "./profile.js";
import type { Runtime } from "./runtime.js";
import { nowSeconds } from "./state.js";
import { readTokenResponse } from "./token-response.js";

/**
 * @internal Logs in against the backend. Throws `BackendSignInError` with a non-sensitive code;
 * details go to the logger without tokens.
 */
export async function loginToBackend(
  runtime: Runtime,
  submitted: Partial<Record<string, unknown>>,
): Promise<BackendTokenState> {
  const { options } = runtime;
  const fields: Record<string, string> = {};
  for (const name of Object.keys(options.credentials)) {
    const value = submitted[name];
    if (typeof value !== "string" || value === "")
      throw new BackendSignInError("InvalidCredentials");
    fields[name] = value;
  }
  const now = nowSeconds(runtime);
  const response = await withSignInErrors(runtime, "login", () =>
    callBackend(options, options.login, { body: options.loginBody(fields), nowSeconds: now }),
  );
  if (response.status < 200 || response.status >= 300) {
    if (isTransientStatus(response.status)) {
      options.logger.warn(`login: backend answered ${response.status}`);
      throw new BackendSignInError("BackendUnavailable");
    }
    const code = backendErrorCode(response.body);
    if (code !== undefined && isConfigurationError(code)) {
      options.logger.error(
        `login: the login endpoint answered ${response.status} ${code}: a configuration problem (client credentials, grant type or request fields), not wrong credentials`,
      );
      throw new BackendSignInError("BackendResponseInvalid");
    }
    if (response.status >= 400) throw new BackendSignInError("InvalidCredentials");
    if (response.status >= 300) {
      options.logger.error(
        `login: ${redirectHint(options.login, response.headers.get("location"), response.status)}`,
      );
      throw new BackendSignInError("BackendResponseInvalid");
    }
    options.logger.error(`login: unexpected status ${response.status}`);
    throw new BackendSignInError("BackendResponseInvalid");
  }
  const tokens = await withSignInErrors(runtime, "login", async () =>
    readTokenResponse(options, response, now, runtime.reservedCookieNames, options.logger.warn),
  );
  const partial: BackendTokenState = {
    provider: options.id,
    accessTokenExpiresAt: tokens.accessTokenExpiresAt,
    receivedAt: tokens.receivedAt,
    signedInAt: tokens.receivedAt,
    cookies: applyCookieChanges([], tokens.cookies, now),
    user: { id: "", roles: [] },
  };
  if (tokens.accessToken !== undefined) partial.accessToken = tokens.accessToken;
  if (tokens.refreshToken !== undefined) partial.refreshToken = tokens.refreshToken;
  if (options.echoRefreshField && tokens.refreshTokenField !== undefined) {
    partial.refreshTokenField = tokens.refreshTokenField;
  }
  if (tokens.refreshTokenExpiresAt !== undefined) {
    partial.refreshTokenExpiresAt = tokens.refreshTokenExpiresAt;
  }
  const user = await withSignInErrors(runtime, "profile", () =>
    readUser(runtime, partial, response.body),
  );
  const state: BackendTokenState = {
    ...partial,
    user,
    ...(options.profile && { profileReadAt: partial.receivedAt }),
  };
  if (!(await isAllowed(runtime, user))) {
    await logoutFromBackend(runtime, state);
    throw new BackendSignInError("RoleNotAllowed");
  }
  const fitted = fitSession(runtime, state);
  logRefusals(runtime, "login", fitted.refused);
  if (!fitted.fits) {
    options.logger.error(
      `login: the session would take ${sessionBytes(fitted.state)} bytes with only its tokens, token cookies and profile, over sessionBudgetBytes (${options.sessionBudgetBytes}); raise it if the backend's tokens are this large`,
    );
    await logoutFromBackend(runtime, state);
    throw new BackendSignInError("BackendResponseInvalid");
  }
  return fitted.state;
}

async function withSignInErrors<T>(
  runtime: Runtime,
  step: string,
  work: () => Promise<T>,
): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof BackendSignInError) throw error;
    if (error instanceof BackendAuthError) {
      if (error.transient) {
        runtime.options.logger.warn(`${step}: ${error.message}`);
        throw new BackendSignInError("BackendUnavailable", { cause: error });
      }
      runtime.options.logger.error(`${step}: ${error.message}`);
      throw new BackendSignInError("BackendResponseInvalid", { cause: error });
    }
    // App code (mapUser, authorizeUser, loginBody) threw: its message may quote backend data.
    runtime.options.logger.error(
      `${step}: unexpected ${error instanceof Error ? error.name : "error"} (message not logged)`,
    );
    throw new BackendSignInError("BackendResponseInvalid");
  }
}
