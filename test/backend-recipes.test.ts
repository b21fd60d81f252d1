/**
 * The recipes of docs/backends.md: each backend shape's options (test/backends/) signs in,
 * refreshes once and signs out against the reference backend in that shape, and the doc quotes
 * every recipe exactly as the tests use it.
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import type { BackendOptions } from "../example-app/backend/server.mjs";
import type { BackendCredentialsOptions } from "../src/index.js";
import {
  bearerRefreshOptions,
  cookieOnlyOptions,
  dataWrapperOptions,
  splitTokensOptions,
} from "./backends/shapes.js";
import { signedIn } from "./harness/index.js";

const ROOT = new URL("..", import.meta.url);
const read = (path: string) => readFileSync(fileURLToPath(new URL(path, ROOT)), "utf8");

const shapes: Array<{
  name: string;
  backend: BackendOptions;
  options: (baseUrl: string) => BackendCredentialsOptions;
}> = [
  { name: "bearer refresh", backend: { tokenPlacement: "body" }, options: bearerRefreshOptions },
  {
    name: "cookie-only session",
    backend: { tokenPlacement: "cookie" },
    options: cookieOnlyOptions,
  },
  {
    name: "data wrapper",
    backend: { tokenPlacement: "body", bodyShape: "nested", expiryStyle: "expires_in" },
    options: dataWrapperOptions,
  },
  {
    name: "tokens split between body and cookie",
    backend: { tokenPlacement: "mixed" },
    options: splitTokensOptions,
  },
];

describe("backend recipes (docs/backends.md)", () => {
  for (const shape of shapes) {
    it(`${shape.name}: signs in, refreshes once with the new refresh token stored, and signs out at the backend`, async () => {
      // The recipe as an app writes it, on the harness's backend URL.
      const { baseUrl: _appUrl, ...recipe } = shape.options("https://api.example.com");
      const { backend, browser, clock, before } = await signedIn(shape.backend, recipe);
      expect(before?.user.id).toBe("1");
      clock.advance(590);
      expect((await browser.session())?.error).toBeUndefined();
      expect(backend.stats.refreshSucceeded).toBe(1);
      expect(backend.stats.reuseDetected).toBe(0);
      await browser.signOut();
      expect(backend.stats.logout).toBe(1);
    });
  }

  it("the doc quotes every recipe exactly as the tests use it", () => {
    const doc = read("docs/backends.md");
    const quoted = [...doc.matchAll(/<!-- recipe: (\S+)#(\w+) -->\n```ts\n([\s\S]*?)```/g)];
    expect(quoted.map(([, , name]) => name)).toEqual([
      "simpleJwtOptions",
      "oauth2Options",
      "bearerRefreshOptions",
      "cookieOnlyOptions",
      "dataWrapperOptions",
      "splitTokensOptions",
    ]);
    for (const [, file, name, block] of quoted) {
      const source = read(file ?? "");
      const start = source.indexOf(`export function ${name}(`);
      expect(start, `${file}: ${name}`).toBeGreaterThanOrEqual(0);
      const end = source.indexOf("\n}\n", start);
      expect(block?.trim()).toBe(source.slice(start, end + 2).trim());
    }
  });
});
