/** `true` when `binary` is on PATH. */
export declare function hasBinary(binary: string): boolean;
/** Installs missing Debian packages as root, or exits naming them. */
export declare function ensureSystemPackages(
  requirements: ReadonlyArray<{ binary: string; pkg: string }>,
): void;
