import type { AuthConfig } from "@auth/core";
import type { ErrorRequestHandler, NextFunction, Request, Response } from "express";
import { checkPath } from "../lib/option-checks.js";
import { safeCallbackPath } from "../lib/redirects.js";
import { BackendAuthError } from "../model/errors.js";
import { TERMINAL_SESSION_ERRORS } from "../model/types.js";
import {
  createExpressContext,
  currentToken,
  deleteSessionCookies,
  type ExpressContextOptions,
  sessionRequestOf,
} from "./context.js";

/** Options of {@link endedSession}. */
export interface EndedSessionOptions extends ExpressContextOptions {
  /**
   * Where browser navigations (a `GET` that prefers HTML) go when there is no usable session,
   * with a same-origin `callbackUrl` (and `error=SessionExpired` when the session has ended).
   * Other requests (API calls) get a JSON answer instead.
   * @default config.pages.signIn, else `${basePath}/signin`
   */
  redirectTo?: string;
}

/**
 * Express error handler for the {@link BackendAuthError}s of `res.locals.backend` (mount it after
 * your routes; Express 5 passes a rejected async route here, Express 4 needs `next(error)`):
 *
 * - an ended session (refresh rejected or expired, or a fresh token the backend rejected): ends it
 *   at the backend (the `signOut` event of `withBackend`, which calls the logout endpoint while
 *   tokens remain; failures are logged), deletes the session cookie and its chunks, and answers
 *   `401 { error: <code> }`, or redirects a browser navigation to `redirectTo` with
 *   `error=SessionExpired`;
 * - `NoSession`: `401 { error: "NoSession" }`, or the redirect without `error`;
 * - `RefreshUnavailable`, `BackendUnavailable` (transient): `503` with `Retry-After: 5`, still
 *   signed in.
 *
 * Anything else, and errors after the response has started, go on to the next error handler.
 */
export function endedSession(
  config: AuthConfig,
  options: EndedSessionOptions = {},
): ErrorRequestHandler {
  const context = createExpressContext("endedSession", config, options);
  checkPath("endedSession", "redirectTo", options.redirectTo);
  const signIn = () =>
    options.redirectTo ?? config.pages?.signIn ?? `${context.config("auto").basePath}/signin`;
  return async (error: unknown, req: Request, res: Response, next: NextFunction) => {
    if (!(error instanceof BackendAuthError) || res.headersSent) return next(error);
    const navigation =
      (req.method === "GET" || req.method === "HEAD") && req.accepts(["json", "html"]) === "html";
    try {
      res.setHeader("cache-control", "private, no-store");
      if (error.transient) {
        res.setHeader("retry-after", "5");
        if (navigation) {
          res
            .status(503)
            .type("text/plain")
            .send("The service is temporarily unavailable. Please try again shortly.");
        } else res.status(503).json({ error: error.code });
        return;
      }
      const ended = (TERMINAL_SESSION_ERRORS as readonly string[]).includes(error.code);
      if (!ended && error.code !== "NoSession") return next(error);
      if (ended) {
        const token = await currentToken(context, req);
        if (token) {
          try {
            await context.config("auto").events?.signOut?.({ token });
          } catch {
            // withBackend's signOut never throws for backend failures; an app event might.
          }
        }
      }
      deleteSessionCookies(context, req, res);
      if (!navigation) {
        res.status(401).json({ error: error.code });
        return;
      }
      const { origin } = new URL(sessionRequestOf(req).url);
      const target = new URL(signIn(), origin);
      if (ended) target.searchParams.set("error", "SessionExpired");
      target.searchParams.set("callbackUrl", safeCallbackPath(req.originalUrl, origin));
      res.redirect(303, `${target.pathname}${target.search}`);
    } catch (failure) {
      next(failure);
    }
  };
}
