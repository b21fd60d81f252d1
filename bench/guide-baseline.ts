/**
 * The refresh-token rotation recipe of the Auth.js guide
 * (docs/pages/guides/refresh-token-rotation.mdx), rewritten for the reference backend: a
 * Credentials provider copies the tokens into the JWT, and the `jwt` callback refreshes **after**
 * expiry, with no lock and no grace period. It is the baseline the benchmark compares against, to
 * show the problem this package solves. Not for use in apps.
 */
import type { AuthConfig } from "@auth/core";
import Credentials from "@auth/core/providers/credentials";

interface GuideTokens {
  access_token: string;
  refresh_token: string;
  expires_at: number;
}

export function guideConfig(backendUrl: string, secret: string, now: () => number): AuthConfig {
  return {
    secret,
    trustHost: true,
    basePath: "/auth",
    logger: { error: () => {}, warn: () => {}, debug: () => {} },
    providers: [
      Credentials({
        id: "backend",
        credentials: { email: {}, password: {} },
        async authorize(credentials) {
          const response = await fetch(`${backendUrl}/auth/login`, {
            method: "POST",
            headers: { "content-type": "application/json" },
            body: JSON.stringify({ email: credentials.email, password: credentials.password }),
          });
          if (!response.ok) return null;
          const body = (await response.json()) as {
            accessToken: string;
            refreshToken: string;
            expiresIn: number;
            user: { id: string; email: string; name: string };
          };
          return {
            id: body.user.id,
            email: body.user.email,
            name: body.user.name,
            tokens: {
              access_token: body.accessToken,
              refresh_token: body.refreshToken,
              expires_at: Math.floor(now() / 1000 + body.expiresIn),
            },
          } as never;
        },
      }),
    ],
    callbacks: {
      async jwt({ token, user }) {
        if (user) return { ...token, ...(user as unknown as { tokens: GuideTokens }).tokens };
        const current = token as typeof token & GuideTokens & { error?: string };
        if (now() < current.expires_at * 1000) return token;
        try {
          const response = await fetch(`${backendUrl}/auth/refresh`, {
            method: "POST",
            headers: { "content-type": "application/json" },
            body: JSON.stringify({ refreshToken: current.refresh_token }),
          });
          const tokensOrError = (await response.json()) as {
            accessToken: string;
            refreshToken?: string;
            expiresIn: number;
          };
          if (!response.ok) throw tokensOrError;
          return {
            ...token,
            access_token: tokensOrError.accessToken,
            expires_at: Math.floor(now() / 1000 + tokensOrError.expiresIn),
            refresh_token: tokensOrError.refreshToken ?? current.refresh_token,
          };
        } catch {
          return { ...token, error: "RefreshTokenError" };
        }
      },
    },
  };
}
