/**
 * The smallest Express app on `@auth/express` with `authjs-backend-credentials/express`: sign-in
 * against your backend at `/auth`, a session kept fresh before every route, and backend calls that
 * survive a 401. In your app, import from "authjs-backend-credentials" and
 * "authjs-backend-credentials/express" instead of ../../src.
 *
 *   const app = createApp({ backendUrl: "http://127.0.0.1:4000" });
 *   app.listen(3000);   // AUTH_SECRET must be set (or pass `secret`)
 */
import { ExpressAuth, getSession } from "@auth/express";
import express from "express";
import { backendSession, endedSession } from "../../src/express/index.js";
import {
  BackendCredentials,
  type BackendCredentialsOptions,
  withBackend,
} from "../../src/index.js";

export interface ExampleOptions {
  /** Your backend (here: the reference backend, example-app/backend/server.mjs). */
  backendUrl: string;
  /** @default process.env.AUTH_SECRET */
  secret?: string;
  /** Extra provider options (tests inject a clock and a coordinator). @default {} */
  provider?: Partial<BackendCredentialsOptions>;
}

export function createApp({ backendUrl, secret, provider = {} }: ExampleOptions) {
  const authConfig = withBackend({
    ...(secret !== undefined && { secret }),
    trustHost: true,
    providers: [
      BackendCredentials({
        baseUrl: backendUrl,
        endpoints: { logout: "/auth/logout" },
        // The reference backend: access token in the JSON body, refresh token in a cookie.
        tokens: { accessToken: { body: "accessToken" }, refreshToken: { cookie: "refresh_token" } },
        ...provider,
      }),
    ],
  });
  // Reads the session without refreshing: the response of getSession's internal call is dropped.
  const readOnly = withBackend(authConfig, { refresh: "never" });

  const app = express();
  app.use("/auth", ExpressAuth(authConfig));
  app.use(backendSession(authConfig));

  app.get("/me", async (req, res) => {
    res.json(await getSession(req, readOnly));
  });

  app.get("/api/items", async (_req, res) => {
    const response = await res.locals.backend.fetch("/api/items");
    res.status(response.status).json(await response.json());
  });

  app.use(endedSession(authConfig));
  return app;
}
