/** Recorders for what the library reports: log lines (ours and Auth.js's) and events. */
import type { AuthConfig } from "@auth/core";
import type { BackendEvents, BackendLogger } from "../../src/index.js";

/** A logger that records every line, so tests can assert on what was (not) logged. */
export function recordingLogger(): BackendLogger & { lines: string[] } {
  const lines: string[] = [];
  return {
    lines,
    warn: (message) => lines.push(`warn ${message}`),
    error: (message, error) =>
      lines.push(`error ${message}${error instanceof Error ? ` ${error.message}` : ""}`),
  };
}

/**
 * Auth.js's own logger, writing to the same lines as `logger` (Auth.js's log lines would
 * otherwise flood the output).
 */
export function recordingAuthLogger(logger: { lines: string[] }): AuthConfig["logger"] {
  return {
    error: (error) => logger.lines.push(`authjs-error ${error.name}: ${error.message}`),
    warn: (code) => logger.lines.push(`authjs-warn ${code}`),
    debug: () => {},
  };
}

/** Records every event, and resolves `next(name)` when an event of that name arrives. */
export function recordingEvents() {
  const seen: Array<{ name: string; event: Record<string, unknown> }> = [];
  const waiting: Array<{ name: string; resolve: () => void }> = [];
  const record =
    (name: keyof BackendEvents) =>
    (event: object): void => {
      seen.push({ name, event: { ...event } });
      for (const waiter of waiting.filter((entry) => entry.name === name)) waiter.resolve();
    };
  const events: Required<BackendEvents> = {
    refreshSucceeded: record("refreshSucceeded"),
    refreshFailed: record("refreshFailed"),
    lateAnswerRecovered: record("lateAnswerRecovered"),
    sessionEnded: record("sessionEnded"),
    logoutFailed: record("logoutFailed"),
  };
  return {
    events,
    seen,
    named: (name: keyof BackendEvents) => seen.filter((entry) => entry.name === name),
    next: (name: keyof BackendEvents) =>
      new Promise<void>((resolve) => waiting.push({ name, resolve })),
  };
}
