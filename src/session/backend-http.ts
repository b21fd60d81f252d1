import { isRecord } from "../lib/json-path.js";
import { BackendAuthError } from "../model/errors.js";
import type { ResolvedEndpoint, ResolvedOptions } from "../model/options.js";
import type { StoredCookie } from "../model/types.js";
import { cookieHeaderFor } from "./cookie-jar.js";

/** @internal A backend response, read once. */
export interface BackendResponse {
  status: number;
  headers: Headers;
  /** Parsed JSON body; `undefined` when empty; `INVALID_JSON` when it is not JSON. */
  body: unknown;
  url: URL;
}

/** @internal Marker for a body that is not JSON. */
export const INVALID_JSON: unique symbol = Symbol("invalid JSON");

/** Bodies larger than this are not parsed (a misbehaving backend cannot exhaust memory). */
const MAX_BODY_BYTES = 1024 * 1024;

/** @internal How a non-2xx status is classified (RFC 6749 §5.2; network-ish codes are transient). */
export function isTransientStatus(status: number): boolean {
  return status === 408 || status === 425 || status === 429 || status >= 500;
}

/**
 * @internal Calls a backend endpoint with a timeout. Network errors and timeouts become
 * `BackendAuthError("BackendUnavailable")`; HTTP statuses are returned for the caller to classify.
 */
export async function callBackend(
  options: Pick<ResolvedOptions, "fetch" | "timeoutMs">,
  endpoint: ResolvedEndpoint,
  request: {
    /** The body (before the endpoint's `fields` are added and it is encoded). */
    body?: unknown;
    bearer?: string | undefined;
    jar?: readonly StoredCookie[];
    nowSeconds: number;
    /** Hard limit of this call, in milliseconds. @default options.timeoutMs */
    timeoutMs?: number;
  },
): Promise<BackendResponse> {
  const timeoutMs = request.timeoutMs ?? options.timeoutMs;
  const headers = new Headers(endpoint.headers);
  headers.set("accept", "application/json");
  const encoded = encodeBody(endpoint, request.body);
  if (encoded !== null) headers.set("content-type", encoded.type);
  const cookie = request.jar && cookieHeaderFor(request.jar, endpoint.url, request.nowSeconds);
  try {
    // An Authorization header the endpoint is configured with (client authentication) wins.
    if (request.bearer && !headers.has("authorization")) {
      headers.set("authorization", `Bearer ${request.bearer}`);
    }
    if (cookie) headers.set("cookie", cookie);
  } catch {
    // Node's Headers quotes the value in its message: never let it reach a log. Values are
    // checked when stored (isHeaderSafe); this only catches sessions stored before that check.
    throw new BackendAuthError(
      "BackendResponseInvalid",
      `${endpoint.method} ${endpoint.url.pathname}: a stored token or cookie is not a valid header value`,
    );
  }
  let response: Response;
  try {
    response = await options.fetch(endpoint.url, {
      method: endpoint.method,
      headers,
      body: encoded === null ? null : encoded.text,
      redirect: "manual",
      cache: "no-store",
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (cause) {
    throw new BackendAuthError(
      "BackendUnavailable",
      `${endpoint.method} ${endpoint.url.pathname} ${isTimeout(cause) ? `timed out after ${timeoutMs} ms` : "failed (network error)"}`,
      { cause },
    );
  }
  let body: unknown;
  try {
    body = await readBody(response);
  } catch (cause) {
    throw new BackendAuthError(
      "BackendUnavailable",
      `${endpoint.method} ${endpoint.url.pathname}: response body could not be read`,
      { cause, status: response.status },
    );
  }
  return { status: response.status, headers: response.headers, body, url: endpoint.url };
}

/**
 * The request body as the endpoint wants it: the endpoint's fixed `fields` plus `body` (whose
 * fields win), encoded as JSON or as a form. `null` for GET and HEAD, and when there is nothing
 * to send.
 */
function encodeBody(
  endpoint: ResolvedEndpoint,
  body: unknown,
): { type: string; text: string } | null {
  if (endpoint.method === "GET" || endpoint.method === "HEAD") return null;
  const hasFields = Object.keys(endpoint.fields).length > 0;
  if (body === undefined && !hasFields) return null;
  const payload =
    body === undefined || isRecord(body) ? { ...endpoint.fields, ...(body ?? {}) } : body;
  if (endpoint.encoding === "form") {
    const form = new URLSearchParams();
    if (isRecord(payload)) {
      for (const [name, value] of Object.entries(payload)) {
        if (value === undefined || value === null) continue;
        form.set(name, typeof value === "object" ? JSON.stringify(value) : String(value));
      }
    }
    return { type: "application/x-www-form-urlencoded", text: form.toString() };
  }
  return { type: "application/json", text: JSON.stringify(payload) };
}

/**
 * @internal Did a backend call end because its time limit passed? Accepts the abort error itself
 * or the `BackendAuthError` {@link callBackend} wraps it in.
 */
export function isTimeout(error: unknown): boolean {
  const cause = error instanceof BackendAuthError ? error.cause : error;
  return cause instanceof Error && cause.name === "TimeoutError";
}

/**
 * Reads at most {@link MAX_BODY_BYTES} of the body, whether or not the backend announced its
 * length: a longer body (a chunked one included) is cancelled as soon as it passes the limit and
 * counts as not JSON.
 */
async function readBody(response: Response): Promise<unknown> {
  const length = Number(response.headers.get("content-length"));
  if (length > MAX_BODY_BYTES || !response.body) {
    await response.body?.cancel();
    return response.body ? INVALID_JSON : undefined;
  }
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > MAX_BODY_BYTES) {
      await reader.cancel();
      return INVALID_JSON;
    }
    chunks.push(value);
  }
  const bytes = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  const text = new TextDecoder().decode(bytes);
  if (text.trim() === "") return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return INVALID_JSON;
  }
}

/**
 * @internal Can `value` travel in an HTTP header as a token (`Authorization: Bearer …`, a cookie
 * value)? Visible ASCII only: no spaces, control characters (CR, LF, NUL) or non-ASCII.
 */
export function isHeaderSafe(value: string): boolean {
  return HEADER_SAFE.test(value);
}

const HEADER_SAFE = /^[\x21-\x7E]+$/;

/** @internal What may be logged of a failed backend call: our own message, never a raw one. */
export function describeFailure(error: unknown): string {
  return error instanceof BackendAuthError
    ? error.message
    : `unexpected ${error instanceof Error ? error.name : "error"} (message not logged)`;
}

/** OAuth 2.0 error codes (RFC 6749 §5.2, RFC 6750 §3.1): the only `error` values we read or log. */
const OAUTH_ERRORS = new Set([
  "invalid_request",
  "invalid_client",
  "invalid_grant",
  "unauthorized_client",
  "unsupported_grant_type",
  "invalid_scope",
  "invalid_token",
  "insufficient_scope",
  "access_denied",
]);

/**
 * @internal OAuth 2.0 errors that say our request is wrong (client authentication, grant type,
 * parameters, scope), not the user's credentials or token: a configuration problem.
 */
export function isConfigurationError(code: string): boolean {
  return CONFIGURATION_ERRORS.has(code);
}

const CONFIGURATION_ERRORS = new Set([
  "invalid_client",
  "unauthorized_client",
  "unsupported_grant_type",
  "invalid_request",
  "invalid_scope",
]);

/**
 * @internal A log line for a 3xx from an endpoint: where it points (path only, never a query
 * that could carry a token) and the usual cause.
 */
export function redirectHint(
  endpoint: ResolvedEndpoint,
  location: string | null,
  status: number,
): string {
  let target = "no Location";
  let hint = "check the endpoint's path and method";
  if (location) {
    try {
      const url = new URL(location, endpoint.url);
      target = url.origin === endpoint.url.origin ? url.pathname : `${url.origin}${url.pathname}`;
      if (url.pathname === `${endpoint.url.pathname}/`) {
        hint = `the path lacks its trailing slash: set it to "${url.pathname}"`;
      } else if (`${url.pathname}/` === endpoint.url.pathname) {
        hint = `the path has a trailing slash the backend does not want: set it to "${url.pathname}"`;
      } else if (url.protocol !== endpoint.url.protocol && url.host === endpoint.url.host) {
        hint = `the backend redirects to ${url.protocol.slice(0, -1)}: fix baseUrl's protocol`;
      }
    } catch {
      target = "an unreadable Location";
    }
  }
  return `${endpoint.method} ${endpoint.url.pathname} answered ${status}, a redirect to ${target} (redirects are not followed; ${hint})`;
}

/**
 * @internal The backend's OAuth-style `error` code, if the body carries a standard one. Other
 * values are ignored, so nothing a backend echoes there (possibly a token) reaches the logs.
 */
export function backendErrorCode(body: unknown): string | undefined {
  if (!isRecord(body)) return undefined;
  const error = body.error;
  return typeof error === "string" && OAUTH_ERRORS.has(error) ? error : undefined;
}
