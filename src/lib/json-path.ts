/** @internal Reads a dot path (`"data.accessToken"`) from parsed JSON; own properties only. */
export function readPath(value: unknown, path: string): unknown {
  let current = value;
  for (const key of path.split(".")) {
    if (typeof current !== "object" || current === null || !Object.hasOwn(current, key)) {
      return undefined;
    }
    current = (current as Record<string, unknown>)[key];
  }
  return current;
}

/** @internal The object that holds the last segment of `path` (e.g. `data` for `data.accessToken`). */
export function parentOf(value: unknown, path: string): unknown {
  const dot = path.lastIndexOf(".");
  return dot === -1 ? value : readPath(value, path.slice(0, dot));
}

/** @internal `true` for a plain JSON object. */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
