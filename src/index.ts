export {
  type BackendAuth,
  backendAuthFromToken,
  type GetBackendAuthOptions,
  getBackendAuth,
} from "./backend-auth.js";
export { isReservedCookieName, MAX_COOKIE_BYTES } from "./cookies.js";
export {
  type CoordinatedRefresh,
  MemoryCoordinator,
  type MemoryCoordinatorOptions,
  type RefreshCoordinator,
  type RefreshLimits,
  type RefreshOutcome,
} from "./coordination.js";
export {
  BackendAuthError,
  type BackendAuthErrorCode,
  BackendSignInError,
  type SignInErrorCode,
} from "./errors.js";
export type {
  BackendEventBase,
  BackendEvents,
  LogoutFailureReason,
  RefreshFailureReason,
} from "./events.js";
export type {
  BackendCredentialsOptions,
  BackendLogger,
  EndpointOption,
  ExpiryOption,
  RefreshTokenTransport,
  TokenLocation,
} from "./options.js";
export { BackendCredentials, type BackendCredentialsProvider } from "./provider.js";
export { safeCallbackPath } from "./redirects.js";
export {
  type RedisClient,
  type RedisCommands,
  RedisCoordinator,
  type RedisCoordinatorOptions,
} from "./redis-coordinator.js";
export {
  type BackendSessionError,
  type BackendSessionFields,
  type BackendTokenState,
  type BackendUser,
  type StoredCookie,
  TERMINAL_SESSION_ERRORS,
} from "./types.js";
export { type BackendAuthConfig, withBackend } from "./with-backend.js";
