/**
 * Turns an untrusted `callbackUrl` into a same-origin path (`/path?query#hash`), or `fallback`
 * when it points anywhere else: other origins, protocol-relative `//host`, backslash tricks such as
 * `/\host`, `javascript:` and other schemes, or control characters.
 *
 * @param value The untrusted value (form field, query parameter).
 * @param origin Our own origin, e.g. `https://app.example.com`.
 * @param fallback Returned when `value` is missing or unsafe. @default "/"
 */
export function safeCallbackPath(value: unknown, origin: string, fallback = "/"): string {
  if (typeof value !== "string" || value === "" || value.length > 2048) return fallback;
  // Browsers strip tabs and newlines from URLs; a value that needs such cleaning is not trusted.
  if (hasControlCharacter(value)) return fallback;
  let base: URL;
  let url: URL;
  try {
    base = new URL(origin);
    url = new URL(value, base);
  } catch {
    return fallback;
  }
  if (url.origin !== base.origin || (url.protocol !== "http:" && url.protocol !== "https:")) {
    return fallback;
  }
  const path = `${url.pathname}${url.search}${url.hash}`;
  // A path starting with "//" or "/\" would be read as another host if echoed into a Location.
  return /^\/[/\\]/.test(path) ? fallback : path;
}

function hasControlCharacter(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x20 || code === 0x7f) return true;
  }
  return false;
}

/**
 * A pathname as a server may route it: percent-decoded, repeated slashes collapsed, no trailing
 * slash, lower case. Compare our own routes in this form ("/api/auth/expired/" and
 * "/API//auth/expired" reach the same handler).
 */
export function routedPathname(pathname: string): string {
  let decoded = pathname;
  try {
    decoded = decodeURIComponent(pathname);
  } catch {
    // keep it as it is
  }
  return (
    decoded
      .replace(/\/{2,}/g, "/")
      .replace(/\/+$/, "")
      .toLowerCase() || "/"
  );
}
