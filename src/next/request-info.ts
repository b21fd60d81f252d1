import { headers } from "next/headers";
import { safeCallbackPath } from "../redirects.js";
import { PATH_HEADER } from "./context.js";

/** @internal What server code (RSC, action, route handler) knows about the current request. */
export interface RequestInfo {
  /** Our origin, from the forwarded host/proto Next.js sets. */
  origin: string;
  /** A URL on our origin (for cookie-name decisions). */
  url: URL;
  /** The page being rendered (set by the proxy), same-origin; `/` when unknown. */
  path: string;
  cookieHeader: string | null;
}

/** @internal Reads the current request through `headers()` (read-only: safe in Server Components). */
export async function currentRequest(): Promise<RequestInfo> {
  const incoming = await headers();
  const host = incoming.get("x-forwarded-host") ?? incoming.get("host") ?? "localhost";
  const proto = (incoming.get("x-forwarded-proto") ?? "http").split(",")[0]?.trim() || "http";
  let url: URL;
  try {
    url = new URL(`${proto}://${host}/`);
  } catch {
    url = new URL("http://localhost/");
  }
  const referer = incoming.get("referer");
  const path = incoming.get(PATH_HEADER) ?? (referer ? safeCallbackPath(referer, url.origin) : "/");
  return {
    origin: url.origin,
    url,
    path: safeCallbackPath(path, url.origin),
    cookieHeader: incoming.get("cookie"),
  };
}

/** @internal `path?params` on our origin, params URL-encoded. */
export function pathWithParams(path: string, params: Record<string, string | undefined>): string {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params))
    if (value !== undefined) search.set(key, value);
  const query = search.toString();
  return query ? `${path}${path.includes("?") ? "&" : "?"}${query}` : path;
}
