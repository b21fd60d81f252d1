/**
 * Values shared by every user of the harness (unit tests, e2e, bench, soak): the test app's secret
 * and origin, the cookie names the library uses, and the reference backend's users. No imports, so
 * the browser tests can load it without the library.
 */

export const SECRET = "test-secret-at-least-32-characters-long!!";
export const ORIGIN = "http://localhost:3000";
export const SESSION_COOKIE = "authjs.session-token";
/** The refresh route's loop-guard cookie. */
export const RETRIED_COOKIE = "authjs-backend.retried";

export const ADMIN = { email: "admin@example.com", password: "admin-password" };
export const USER = { email: "user@example.com", password: "user-password" };
export const EVALUATOR = { email: "evaluator@example.com", password: "evaluator-password" };
