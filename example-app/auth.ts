import {
  BackendCredentials,
  RedisCoordinator,
  type RefreshCoordinator,
} from "authjs-backend-credentials";
import { nextBackend } from "authjs-backend-credentials/next";
import Redis from "ioredis";
import NextAuth from "next-auth";

/** Where the reference backend (`backend/server.mjs`) or your own API listens. */
const BACKEND_URL = process.env.BACKEND_URL ?? "http://127.0.0.1:4000";

/**
 * Where single flight and the grace cache live. With `REDIS_URL` set, every instance of the app
 * shares them (results are encrypted with AUTH_SECRET); without it the in-process default is
 * used, which is right for a single `next start` process.
 */
function coordinationFromEnv(): RefreshCoordinator | undefined {
  const url = process.env.REDIS_URL;
  if (!url) return undefined;
  return new RedisCoordinator({ client: new Redis(url, { maxRetriesPerRequest: 1 }) });
}

export const backend = nextBackend(
  {
    providers: [
      BackendCredentials({
        baseUrl: BACKEND_URL,
        endpoints: { logout: "/auth/logout", profile: "/users/me" },
        // The reference backend's default mode: access token in the JSON body, refresh token in
        // an HttpOnly `refresh_token` cookie.
        tokens: { accessToken: { body: "accessToken" }, refreshToken: { cookie: "refresh_token" } },
        coordination: coordinationFromEnv(),
        // Beyond id, name, email, image and roles only what is listed reaches the session (and
        // the browser); typed in user-fields.ts.
        profileFields: ["department"],
        // Re-read the profile at every refresh (every few seconds with the demo's short tokens):
        // a role changed at the backend reaches the session without signing out.
        profileRevalidationSeconds: 0,
      }),
    ],
    pages: { signIn: "/signin" },
    session: { strategy: "jwt" },
  },
  {
    // A harmless backend cookie copied to the browser (HttpOnly) to show the option; the refresh
    // token and `backend_sid` stay in the encrypted session.
    mirrorBackendCookies: ["theme"],
  },
);

export const { handlers, auth, signIn, signOut } = NextAuth(backend.authConfig);
