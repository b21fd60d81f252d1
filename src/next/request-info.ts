import { headers } from "next/headers";
import { safeCallbackPath } from "../lib/redirects.js";

/** Header the proxy sets on the request so server code knows the page being rendered. */
export const PATH_HEADER = "x-authjs-backend-path";

/** @internal What server code (RSC, action, route handler) knows about the current request. */
export interface RequestInfo {
  /** Our origin, from the forwarded host/proto Next.js sets. */
  origin: string;
  /** A URL on our origin, with the protocol the browser used. */
  url: URL;
  /** The request's headers (read-only), for the session cookie rule. */
  headers: Headers;
  /** The page being rendered (set by the proxy), same-origin; `/` when unknown. */
  path: string;
  cookieHeader: string | null;
}

/** @internal Reads the current request through `headers()` (read-only: safe in Server Components). */
export async function currentRequest(): Promise<RequestInfo> {
  const incoming = await headers();
  const url = forwardedUrl(incoming);
  const referer = incoming.get("referer");
  const path = incoming.get(PATH_HEADER) ?? (referer ? safeCallbackPath(referer, url.origin) : "/");
  return {
    origin: url.origin,
    url,
    path: safeCallbackPath(path, url.origin),
    cookieHeader: incoming.get("cookie"),
    headers: incoming,
  };
}

/**
 * @internal The root URL of the origin the browser used, from `x-forwarded-host` (else `host`) and
 * `x-forwarded-proto` (else `http`), as Next.js sets them; `http://localhost/` when unusable.
 */
function forwardedUrl(incoming: Headers): URL {
  const host = incoming.get("x-forwarded-host") ?? incoming.get("host") ?? "localhost";
  const proto = (incoming.get("x-forwarded-proto") ?? "http").split(",")[0]?.trim() || "http";
  try {
    return new URL(`${proto}://${host}/`);
  } catch {
    return new URL("http://localhost/");
  }
}

/** @internal `path?params` on our origin, params URL-encoded. */
export function pathWithParams(path: string, params: Record<string, string | undefined>): string {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params))
    if (value !== undefined) search.set(key, value);
  const query = search.toString();
  return query ? `${path}${path.includes("?") ? "&" : "?"}${query}` : path;
}

/**
 * @internal A non-cacheable redirect to `path` resolved on `origin`. The `Location` is relative
 * (`/path?query#hash`): in route handlers `request.url` carries Next.js's internal host
 * (`localhost:PORT`), not the origin the browser used. The proxy passes `absolute: true`: Next.js's
 * proxy adapter parses a proxy's `Location` with `new NextURL(location)` and no base URL (a
 * relative one throws "Invalid URL"), then makes same-host redirects relative itself.
 */
export function redirectResponse(
  origin: string,
  path: string,
  status: 303 | 307,
  { absolute = false }: { absolute?: boolean } = {},
): Response {
  const url = new URL(path, origin);
  return new Response(null, {
    status,
    headers: {
      location: absolute ? url.href : `${url.pathname}${url.search}${url.hash}`,
      "cache-control": "private, no-store",
    },
  });
}

/**
 * @internal `false` for a request another site caused: `Sec-Fetch-Site` other than `same-origin`
 * or `none`, or an `Origin` that is neither the request URL's nor the forwarded one, or (for
 * browsers that send neither, e.g. Safari before 16.4) a `Referer` from another origin.
 */
export function isSameOriginRequest(request: Request, url: URL): boolean {
  const site = request.headers.get("sec-fetch-site");
  if (site !== null && site !== "same-origin" && site !== "none") return false;
  const ours = (value: string) =>
    value === url.origin || value === forwardedUrl(request.headers).origin;
  const origin = request.headers.get("origin");
  if (origin !== null) return ours(origin);
  const referer = request.headers.get("referer");
  if (site === null && referer !== null) {
    try {
      return ours(new URL(referer).origin);
    } catch {
      return false;
    }
  }
  return true;
}
