import { BackendCredentials } from "authjs-backend-credentials";
import { nextBackend } from "authjs-backend-credentials/next";
import NextAuth from "next-auth";

// The example app's configuration (example-app/auth.ts) without Redis.
export const backend = nextBackend(
  {
    providers: [
      BackendCredentials({
        baseUrl: process.env.BACKEND_URL ?? "http://127.0.0.1:4000",
        endpoints: { logout: "/auth/logout", profile: "/users/me" },
        tokens: { accessToken: { body: "accessToken" }, refreshToken: { cookie: "refresh_token" } },
        profileFields: ["department"],
        profileRevalidationSeconds: 0,
      }),
    ],
    pages: { signIn: "/signin" },
    session: { strategy: "jwt" },
  },
  { mirrorBackendCookies: ["theme"] },
);

export const { handlers, auth } = NextAuth(backend.authConfig);
