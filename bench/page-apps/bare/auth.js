import NextAuth from "next-auth";
import Credentials from "next-auth/providers/credentials";

const BACKEND_URL = process.env.BACKEND_URL;

// A bare next-auth app: logs in at the backend and keeps its access token in the session.
export const { handlers, auth } = NextAuth({
  providers: [
    Credentials({
      id: "backend",
      credentials: { email: {}, password: {} },
      async authorize(credentials) {
        const response = await fetch(`${BACKEND_URL}/auth/login`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ email: credentials.email, password: credentials.password }),
        });
        if (!response.ok) return null;
        const body = await response.json();
        return {
          id: String(body.user?.id ?? credentials.email),
          email: credentials.email,
          accessToken: body.accessToken,
        };
      },
    }),
  ],
  pages: { signIn: "/signin" },
  session: { strategy: "jwt" },
  callbacks: {
    jwt({ token, user }) {
      if (user) token.accessToken = user.accessToken;
      return token;
    },
    session({ session, token }) {
      session.accessToken = token.accessToken;
      return session;
    },
  },
});
