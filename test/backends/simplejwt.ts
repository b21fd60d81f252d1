/**
 * Django REST framework + djangorestframework-simplejwt: the provider options for SimpleJWT's
 * standard URLs (`TokenObtainPairView`, `TokenRefreshView`, `TokenBlacklistView`) and a
 * `/api/users/me/` profile view. Options only: no `mapUser` is needed, the default mapping reads
 * `id` (Django's integer primary key, stored as a string), `email`, and the name from `first_name`
 * and `last_name`; `profileFields` keeps the `username`. Expiries come from the JWTs' `exp`.
 *
 * Used by test/django-simplejwt.test.ts against a real Django (test/servers/django/).
 */
import type { BackendCredentialsOptions } from "../../src/index.js";

export function simpleJwtOptions(baseUrl: string) {
  return {
    baseUrl,
    endpoints: {
      login: "/api/token/",
      refresh: "/api/token/refresh/",
      // With ROTATE_REFRESH_TOKENS + BLACKLIST_AFTER_ROTATION, sign-out blacklists the refresh token.
      logout: "/api/token/blacklist/",
      profile: "/api/users/me/",
    },
    credentials: {
      username: { label: "Username", type: "text" },
      password: { label: "Password", type: "password" },
    },
    tokens: {
      accessToken: { body: "access" },
      refreshToken: { body: "refresh" },
    },
    // SimpleJWT reads `{ "refresh": "…" }` at both the refresh and the blacklist endpoint.
    refreshTokenTransport: { body: "refresh" },
    // The name comes from first_name + last_name; keep the username too.
    profileFields: ["username"],
  } satisfies BackendCredentialsOptions;
}
