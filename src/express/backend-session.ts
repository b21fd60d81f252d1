import type { AuthConfig } from "@auth/core";
import type { NextFunction, Request, RequestHandler, Response } from "express";
import { createExpressBackend, type ExpressBackend } from "./client.js";
import { createExpressContext, type ExpressContextOptions } from "./context.js";

declare global {
  namespace Express {
    interface Locals {
      /** Set by `backendSession()`: the session's backend credentials and a 401-safe `fetch`. */
      backend: ExpressBackend;
    }
  }
}

/** Options of {@link backendSession}. */
export type BackendSessionOptions = ExpressContextOptions;

/**
 * Express middleware that keeps the Auth.js session of `@auth/express` fresh where its cookie can
 * be written: before the route runs it decodes the session (the cookie Auth.js itself reads), and
 * when the access token is due it re-runs Auth.js's session action (the `jwt` callback refreshes
 * with single flight and the grace cache), appends the re-issued session cookie to the response
 * **and** rewrites `req.headers.cookie`, so `getSession()` and our helpers later in the same
 * request read the rotated session instead of refreshing again with a retired refresh token.
 * Auth.js's own routes (under `basePath`) are left alone.
 *
 * Sets `res.locals.backend` ({@link ExpressBackend}): `auth()` and the 401-safe `fetch`. Mount it
 * after `ExpressAuth` and before your routes, with the same config (`withBackend` applied or not),
 * and `endedSession()` after them. `secret` is `config.secret`, else `AUTH_SECRET*` as in Auth.js.
 *
 * @example
 * ```ts
 * app.use("/auth", ExpressAuth(authConfig));
 * app.use(backendSession(authConfig));
 * app.get("/api/items", async (_req, res) => {
 *   res.json(await (await res.locals.backend.fetch("/api/items")).json());
 * });
 * app.use(endedSession(authConfig));
 * ```
 */
export function backendSession(
  config: AuthConfig,
  options: BackendSessionOptions = {},
): RequestHandler {
  const context = createExpressContext("backendSession", config, options);
  return async (req: Request, res: Response, next: NextFunction) => {
    if (context.isAuthRoute(req)) return next();
    try {
      const backend = createExpressBackend(context, req, res);
      res.locals.backend = { auth: backend.auth, fetch: backend.fetch };
      await backend.refreshIfDue();
    } catch (error) {
      return next(error);
    }
    next();
  };
}
