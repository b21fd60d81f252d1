import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, describe, expect, it } from "vitest";

const root = resolve(import.meta.dirname, "..");
const work = mkdtempSync(join(tmpdir(), "abc-pack-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe("npm pack", () => {
  it("produces a package that a separate project installs, imports and type-checks", () => {
    // `npm test` builds first; a bare `vitest run` builds here.
    if (!existsSync(join(root, "dist/index.js"))) {
      execFileSync("npm", ["run", "build", "--silent"], { cwd: root, stdio: "pipe" });
    }
    const packed = execFileSync("npm", ["pack", "--json", "--pack-destination", work], {
      cwd: root,
      encoding: "utf8",
    });
    const [info] = JSON.parse(packed) as Array<{
      filename: string;
      files: Array<{ path: string }>;
    }>;
    const files = info?.files.map((file) => file.path) ?? [];
    expect(files).toContain("dist/index.js");
    expect(files).toContain("dist/index.d.ts");
    expect(files).toContain("dist/next/index.js");
    expect(files).toContain("dist/next/client/index.js");
    expect(files.some((file) => file.startsWith("src/") || file.startsWith("test/"))).toBe(false);

    const project = join(work, "consumer");
    execFileSync("mkdir", ["-p", project]);
    writeFileSync(
      join(project, "package.json"),
      JSON.stringify({
        name: "consumer",
        private: true,
        type: "module",
        dependencies: {
          "authjs-backend-credentials": `file:${join(work, info?.filename ?? "")}`,
          "@auth/core": "0.41.3",
        },
      }),
    );
    execFileSync(
      "npm",
      [
        "install",
        "--prefer-offline",
        "--no-audit",
        "--no-fund",
        "--ignore-scripts",
        "--legacy-peer-deps",
      ],
      { cwd: project, stdio: "pipe" },
    );
    expect(readdirSync(join(project, "node_modules"))).toContain("authjs-backend-credentials");

    writeFileSync(
      join(project, "check.mjs"),
      `import { BackendCredentials, withBackend, MemoryCoordinator, RedisCoordinator, safeCallbackPath } from "authjs-backend-credentials";
const provider = BackendCredentials({ baseUrl: "http://127.0.0.1:4000" });
const config = withBackend({ providers: [provider] });
console.log(JSON.stringify({
  id: provider.id, type: provider.type, jwt: typeof config.callbacks.jwt,
  memory: typeof MemoryCoordinator, redis: typeof RedisCoordinator,
  safe: safeCallbackPath("https://evil.example", "http://localhost:3000"),
}));`,
    );
    const output = execFileSync("node", ["check.mjs"], { cwd: project, encoding: "utf8" });
    expect(JSON.parse(output)).toEqual({
      id: "backend",
      type: "credentials",
      jwt: "function",
      memory: "function",
      redis: "function",
      safe: "/",
    });

    writeFileSync(
      join(project, "typed.ts"),
      `import type { Session } from "@auth/core/types";
import { BackendCredentials, type BackendSessionError, withBackend } from "authjs-backend-credentials";
const config = withBackend({ providers: [BackendCredentials({ baseUrl: "http://127.0.0.1:4000", refreshBufferSeconds: 30 })] });
export const error: BackendSessionError | undefined = ({} as Session).error;
export const expiresAt: number | undefined = ({} as Session).accessTokenExpiresAt;
export default config;
`,
    );
    writeFileSync(
      join(project, "tsconfig.json"),
      JSON.stringify({
        compilerOptions: {
          strict: true,
          module: "NodeNext",
          moduleResolution: "NodeNext",
          target: "ES2022",
          noEmit: true,
          skipLibCheck: true,
          types: [],
        },
        files: ["typed.ts"],
      }),
    );
    execFileSync(join(root, "node_modules/.bin/tsc"), ["-p", "tsconfig.json"], {
      cwd: project,
      stdio: "pipe",
    });
  }, 180_000);
});
