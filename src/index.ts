export { backendAuthLogger } from "./auth-logger.js";
export {
  type BackendAuth,
  backendAuthFromToken,
  type GetBackendAuthConfig,
  type GetBackendAuthOptions,
  getBackendAuth,
} from "./backend-auth.js";
export {
  MemoryCoordinator,
  type MemoryCoordinatorOptions,
} from "./coordination/memory-coordinator.js";
export type { RedisClient, RedisCommands } from "./coordination/redis-client.js";
export {
  RedisCoordinator,
  type RedisCoordinatorOptions,
} from "./coordination/redis-coordinator.js";
export { safeCallbackPath } from "./lib/redirects.js";
export type {
  CoordinatedRefresh,
  RefreshCoordinator,
  RefreshLimits,
  RefreshOutcome,
} from "./model/coordinator.js";
export {
  BackendAuthError,
  type BackendAuthErrorCode,
  type BackendErrorCode,
  BackendSignInError,
  type LoginRouteErrorCode,
  SIGN_IN_ERROR_CODES,
  type SignInErrorCode,
} from "./model/errors.js";
export type {
  BackendEventBase,
  BackendEvents,
  LogoutFailureReason,
  RefreshFailureReason,
} from "./model/events.js";
export type { OAuth2Options } from "./model/oauth2.js";
export type {
  BackendCredentialsOptions,
  BackendLogger,
  BodyEncoding,
  EndpointOption,
  ExpiryOption,
  RefreshTokenTransport,
  TokenLocation,
} from "./model/options.js";
export {
  type BackendSessionError,
  type BackendSessionFields,
  type BackendTokenState,
  type BackendUser,
  type BackendUserExtras,
  type MapUserContext,
  type RefreshMode,
  type StoredCookie,
  TERMINAL_SESSION_ERRORS,
} from "./model/types.js";
export { BackendCredentials, type BackendCredentialsProvider } from "./provider.js";
export type { SessionRequest } from "./session/session-cookie.js";
export { type BackendAuthConfig, type WithBackendOptions, withBackend } from "./with-backend.js";
