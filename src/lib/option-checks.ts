/**
 * The option checks every public constructor shares. Each throws a `TypeError` that names the
 * component and the option (`BackendCredentials: option timeoutMs must be a finite number > 0`),
 * and returns the value (or the fallback when it is `undefined`).
 */

/** `TypeError` naming `owner`'s option `name` and what it must be. */
export function optionError(owner: string, name: string, mustBe: string): TypeError {
  return new TypeError(`${owner}: option ${name} must be ${mustBe}`);
}

export function nonEmptyString(owner: string, name: string, value: unknown): string {
  if (typeof value !== "string" || value === "") {
    throw optionError(owner, name, "a non-empty string");
  }
  return value;
}

export function nonNegative(
  owner: string,
  name: string,
  value: number | undefined,
  fallback: number,
): number {
  return finite(owner, name, value, fallback, (n) => n >= 0, "a finite number >= 0");
}

export function positive<Fallback extends number | undefined>(
  owner: string,
  name: string,
  value: number | undefined,
  fallback: Fallback,
): number | Fallback {
  return finite(owner, name, value, fallback, (n) => n > 0, "a finite number > 0");
}

function finite<Fallback extends number | undefined>(
  owner: string,
  name: string,
  value: number | undefined,
  fallback: Fallback,
  accepts: (value: number) => boolean,
  mustBe: string,
): number | Fallback {
  if (value === undefined) return fallback;
  if (typeof value !== "number" || !Number.isFinite(value) || !accepts(value)) {
    throw optionError(owner, name, mustBe);
  }
  return value;
}

export function positiveInteger(
  owner: string,
  name: string,
  value: number | undefined,
  fallback: number,
): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < 1) throw optionError(owner, name, "an integer >= 1");
  return value;
}

export function optionalFunction<F>(
  owner: string,
  name: string,
  value: F | undefined,
): F | undefined {
  if (value !== undefined && typeof value !== "function") {
    throw optionError(owner, name, "a function");
  }
  return value;
}

/** An optional app path: a string starting with `/`. */
export function checkPath(owner: string, name: string, value: unknown): void {
  if (value !== undefined && (typeof value !== "string" || !value.startsWith("/"))) {
    throw optionError(owner, name, 'a path starting with "/"');
  }
}

/** An optional value among `allowed`. */
export function oneOf<T extends string>(
  owner: string,
  name: string,
  value: unknown,
  allowed: readonly T[],
  fallback: T,
): T {
  if (value === undefined) return fallback;
  if (!allowed.includes(value as T)) {
    throw optionError(owner, name, allowed.map((item) => `"${item}"`).join(" or "));
  }
  return value as T;
}
