import { cpSync, mkdirSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { describe, expect, it } from "vitest";
import { startBackend } from "../example-app/backend/server.mjs";
import { ADMIN, AuthClient, appConfig, sharedClock, tokenFromResponse } from "./harness/index.js";

type Library = typeof import("../src/index.js");

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");

/**
 * Two separate copies of the library's modules, as a bundler makes them: Next.js loads the
 * package once per bundle (proxy, route handlers, server rendering), so module-level state exists
 * once per copy. Each copy lives under test-results/ (inside the repository, so its imports of
 * `@auth/core`, `cookie`, … resolve to the same node_modules).
 */
async function loadCopies(count: number): Promise<Library[]> {
  const base = join(ROOT, "test-results", `library-copies-${process.pid}`);
  rmSync(base, { recursive: true, force: true });
  const copies: Library[] = [];
  for (let i = 0; i < count; i++) {
    const dir = join(base, `copy-${i}`);
    mkdirSync(dir, { recursive: true });
    cpSync(join(ROOT, "src"), join(dir, "src"), { recursive: true });
    copies.push((await import(pathToFileURL(join(dir, "src", "index.ts")).href)) as Library);
  }
  return copies;
}

describe("coordination spans every copy of the library in a process", () => {
  for (const coordination of ["default", "explicit MemoryCoordinator"] as const) {
    it(`${coordination}: two bundles' copies, 2 x 25 concurrent reads with one expired cookie: 1 backend refresh, 0 reuse, one set of tokens`, async () => {
      const [first, second] = await loadCopies(2);
      if (!first || !second) throw new Error("copies not loaded");
      expect(first.MemoryCoordinator).not.toBe(second.MemoryCoordinator); // really two copies
      const backend = await startBackend({ tokenPlacement: "mixed", accessTokenTtlSeconds: 600 });
      try {
        const clock = sharedClock(backend);
        const configOf = (library: Library) =>
          appConfig(library, backend, clock, {
            ...(coordination === "default"
              ? {}
              : {
                  coordination: new library.MemoryCoordinator({ scope: `copies-${backend.port}` }),
                }),
          });
        const proxyBundle = new AuthClient(configOf(first));
        const routeBundle = new AuthClient(configOf(second));
        await proxyBundle.signIn(ADMIN);
        for (const [name, value] of proxyBundle.cookies) routeBundle.cookies.set(name, value);
        clock.advance(700); // the access token has expired

        const responses = await Promise.all(
          Array.from({ length: 50 }, (_, i) =>
            (i % 2 ? proxyBundle : routeBundle).clone().request("/session"),
          ),
        );
        expect(backend.stats.refresh).toBe(1);
        expect(backend.stats.reuseDetected).toBe(0);
        const tokens = await Promise.all(responses.map(tokenFromResponse));
        expect(new Set(tokens.map((token) => token?.backend?.accessToken)).size).toBe(1);
        for (const response of responses) {
          expect(((await response.json()) as { error?: string }).error).toBeUndefined();
        }
      } finally {
        await backend.close();
      }
    });
  }
});
