import { processShared } from "../lib/process-shared.js";
import type { ResolvedOptions } from "../model/options.js";

/**
 * @internal Logs `message` once per process for each provider id and kind (every Next.js bundle
 * shares the record): start-up warnings and misconfiguration hints that would otherwise repeat on
 * every request.
 */
export function warnOnce(
  options: Pick<ResolvedOptions, "id" | "logger">,
  kind: string,
  message: string,
): void {
  const warned = processShared("warned-once", () => new Set<string>());
  const key = `${options.id}\0${kind}`;
  if (warned.has(key)) return;
  warned.add(key);
  options.logger.warn(message);
}
