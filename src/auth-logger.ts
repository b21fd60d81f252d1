import type { AuthConfig } from "@auth/core";

type AuthLogger = NonNullable<AuthConfig["logger"]>;

/**
 * An Auth.js `logger` for apps whose users sign in with a password: a refused sign-in (Auth.js's
 * `CredentialsSignin`, i.e. a wrong password or one of our sign-in codes) is an expected event, so
 * it is reported as one line with its code (`[auth] sign-in refused (InvalidCredentials)`) instead
 * of an error with a stack trace. Every other error is logged as Auth.js logs it (name, message,
 * cause or stack); warnings and debug output stay Auth.js's own. `nextBackend` installs it when
 * the config has no `logger`; give it to `NextAuth`, `ExpressAuth` or `Auth()` yourself otherwise.
 *
 * @example
 * ```ts
 * Auth(request, withBackend({ providers: [...], logger: backendAuthLogger }))
 * ```
 */
export const backendAuthLogger: AuthLogger = {
  error(error) {
    const { type, code } = error as { type?: unknown; code?: unknown };
    if (type === "CredentialsSignin") {
      console.warn(`[auth] sign-in refused (${typeof code === "string" ? code : "credentials"})`);
      return;
    }
    const name = typeof type === "string" ? type : error.name;
    console.error(`[auth][error] ${name}: ${error.message}`);
    const cause = error.cause as { err?: unknown } | undefined;
    if (cause && typeof cause === "object" && cause.err instanceof Error) {
      console.error("[auth][cause]:", cause.err.stack);
    } else if (error.stack) {
      console.error(error.stack.replace(/.*/, "").substring(1));
    }
  },
};
