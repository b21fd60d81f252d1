import { cookies } from "next/headers";
import { redirect } from "next/navigation";
import {
  type LoginRouteErrorCode,
  type SignInErrorCode,
  signInErrorCodeOf,
} from "../model/errors.js";
import { runtimeFor } from "../session/runtime.js";
import { readSessionToken, stateOf } from "../session/session-cookie.js";
import type { NextContext } from "./context.js";
import { mirroredCookies, valueForNextCookies } from "./mirror.js";
import { currentRequest, isSameOriginRequest } from "./request-info.js";

/** next-auth's `signIn` as returned by `NextAuth(...)`. */
export type NextAuthSignIn = (
  provider: string,
  options: Record<string, unknown>,
) => Promise<unknown>;

/** Options of `backend.login()` and `backend.loginRoute()`. */
export interface LoginOptions {
  /** Provider id. @default the first BackendCredentials provider's id */
  providerId?: string;
  /** Where to go after sign-in when the form has no (safe) `callbackUrl`. @default "/" */
  redirectTo?: string;
}

/** The result of a failed login; a successful one redirects. */
export interface LoginResult {
  error: SignInErrorCode;
}

/**
 * @internal Signs in with next-auth's `signIn` (which saves the session cookie), then mirrors backend
 * cookies if asked. Returns the error code on failure.
 */
async function signInWithBackend(
  context: NextContext,
  signIn: NextAuthSignIn,
  fields: Record<string, unknown>,
  options: LoginOptions,
): Promise<SignInErrorCode | undefined> {
  const config = context.config("never");
  const providerId = options.providerId ?? firstProviderId(context);
  try {
    await signIn(providerId, { ...fields, redirect: false });
  } catch (error) {
    const code = signInErrorCodeOf(error);
    if (code) return code;
    throw error;
  }
  if (context.options.mirrorBackendCookies) {
    const request = await currentRequest();
    const jar = await cookies();
    const cookieHeader = jar
      .getAll()
      .map((cookie) => `${cookie.name}=${cookie.value}`)
      .join("; ");
    const headers = new Headers(request.headers);
    headers.set("cookie", cookieHeader);
    const state = stateOf(await readSessionToken(config, { url: request.url, headers }));
    const runtime = state && runtimeFor(config.providers, state.provider);
    if (state && runtime) {
      const option = context.options.mirrorBackendCookies;
      const copied = new Set<string>();
      for (const cookie of mirroredCookies(option, runtime, state, request.url)) {
        const value = valueForNextCookies(cookie.value);
        // cookies() holds one cookie per name: a second path of the same name would replace the
        // first. Such cookies (and values Next.js would re-encode) are copied with raw headers
        // at the next refresh in the proxy or refresh route.
        if (value === undefined || copied.has(cookie.name)) {
          runtime.options.logger.warn(
            `mirrorBackendCookies: backend cookie "${cookie.name}" cannot be copied exactly through cookies(); it is copied at the next refresh in the proxy or refresh route`,
          );
          continue;
        }
        copied.add(cookie.name);
        jar.set(cookie.name, value, cookie.options);
      }
    }
  }
  return undefined;
}

/**
 * @internal `backend.login(signIn, formData)` for a server action (`useActionState`): on success
 * redirects to the form's same-origin `callbackUrl`; on failure returns `{ error }`.
 */
export async function loginAction(
  context: NextContext,
  signIn: NextAuthSignIn,
  formData: FormData,
  options: LoginOptions = {},
): Promise<LoginResult> {
  const request = await currentRequest();
  const fields: Record<string, unknown> = {};
  for (const [key, value] of formData) {
    if (typeof value === "string" && !key.startsWith("$ACTION") && key !== "callbackUrl") {
      fields[key] = value;
    }
  }
  const destination = context.callbackPath(
    formData.get("callbackUrl"),
    request.origin,
    context.callbackPath(options.redirectTo, request.origin),
  );
  const error = await signInWithBackend(context, signIn, fields, options);
  if (error) return { error };
  redirect(destination);
}

/**
 * @internal `backend.loginRoute(signIn)`: a `POST` route handler taking JSON or form fields.
 * Answers `200 { ok: true, url }` (the session cookie is set), or an error status with `{ error }`:
 * 400 `InvalidRequest`, 401 `InvalidCredentials`, 403 `RoleNotAllowed`, 403 `Forbidden`
 * (cross-site request), 503 `BackendUnavailable`, 502 `BackendResponseInvalid`.
 *
 * next-auth's server-side `signIn` skips Auth.js's CSRF check, so this route checks the request's
 * provenance itself (login CSRF: another site's form signing the victim into the attacker's
 * account): it refuses a request whose `Sec-Fetch-Site` is present and neither `same-origin` nor
 * `none`, or whose `Origin` is present and is neither our forwarded origin (`x-forwarded-host` or
 * `host`, with `x-forwarded-proto`) nor the request URL's origin. Clients that send neither header
 * (server-to-server, curl) are not browsers acting for a victim and are accepted.
 */
export function loginRoute(
  context: NextContext,
  signIn: NextAuthSignIn,
  options: LoginOptions = {},
): (request: Request) => Promise<Response> {
  return async (request) => {
    const url = new URL(request.url);
    if (!isSameOriginRequest(request, url)) {
      return routeError("Forbidden");
    }
    let body: Record<string, unknown>;
    try {
      const type = request.headers.get("content-type") ?? "";
      body = type.includes("application/json")
        ? ((await request.json()) as Record<string, unknown>)
        : Object.fromEntries(await request.formData());
    } catch {
      return routeError("InvalidRequest");
    }
    if (typeof body !== "object" || body === null || Array.isArray(body)) {
      return routeError("InvalidRequest");
    }
    const { callbackUrl, ...fields } = body;
    const destination = context.callbackPath(
      callbackUrl,
      url.origin,
      context.callbackPath(options.redirectTo, url.origin),
    );
    const error = await signInWithBackend(context, signIn, fields, options);
    if (error) return routeError(error);
    return Response.json(
      { ok: true, url: destination },
      { headers: { "cache-control": "private, no-store" } },
    );
  };
}

/** The login route's HTTP status for each of its error codes. */
const ROUTE_ERROR_STATUS: Record<LoginRouteErrorCode, number> = {
  InvalidRequest: 400,
  InvalidCredentials: 401,
  RoleNotAllowed: 403,
  Forbidden: 403,
  BackendResponseInvalid: 502,
  BackendUnavailable: 503,
};

function routeError(error: LoginRouteErrorCode): Response {
  return Response.json(
    { error },
    { status: ROUTE_ERROR_STATUS[error], headers: { "cache-control": "private, no-store" } },
  );
}

function firstProviderId(context: NextContext): string {
  for (const provider of context.config("never").providers) {
    const id = (provider as { id?: unknown }).id;
    if (typeof id === "string" && runtimeFor([provider], id)) return id;
  }
  return "backend";
}
