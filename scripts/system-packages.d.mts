/** `true` when `binary` is on PATH. */
export declare function hasBinary(binary: string): boolean;

/**
 * A Debian package a test needs, and how to tell it is installed: a program on PATH (`binary`),
 * or a command that succeeds once it is (`check`, an argv array such as
 * `["/usr/bin/python3", "-c", "import django"]`).
 */
export type SystemRequirement =
  | { pkg: string; binary: string; check?: never }
  | { pkg: string; check: readonly [string, ...string[]]; binary?: never };

/** Installs missing Debian packages as root, or exits naming them. */
export declare function ensureSystemPackages(requirements: readonly SystemRequirement[]): void;
