/** Real `fetch` wrappers that change what the reference backend answers (nothing is mocked). */

/**
 * A `fetch` that appends `Set-Cookie` headers to the real backend's responses for requests whose
 * path ends with `pathSuffix`, the next `times` times (default: always).
 */
export function addingSetCookies(
  pathSuffix: string,
  setCookies: () => readonly string[],
  times = Number.POSITIVE_INFINITY,
): typeof fetch {
  let remaining = times;
  return async (input, init) => {
    const response = await fetch(input, init);
    const path = new URL(input instanceof Request ? input.url : String(input)).pathname;
    if (!path.endsWith(pathSuffix) || remaining <= 0) return response;
    remaining--;
    const headers = new Headers(response.headers);
    for (const header of setCookies()) headers.append("set-cookie", header);
    return new Response(response.body, { status: response.status, headers });
  };
}
