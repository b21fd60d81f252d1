import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { buildApp, REPOSITORY_ROOT, RESULTS_DIR, startApp } from "./servers.js";
import {
  ACCESS_TOKEN_TTL,
  browserSuite,
  control,
  openContext,
  USER,
  waitPastExpiry,
} from "./support.js";

const suite = browserSuite();
const APP_DIR = join(RESULTS_DIR, "readme-app");

/**
 * The files of the README's Next.js block (between `<!-- readme-app:start -->` and `:end`), each
 * introduced by a `// file: <path>` line.
 */
function readmeFiles(): Map<string, string> {
  const readme = readFileSync(join(REPOSITORY_ROOT, "README.md"), "utf8");
  const start = readme.indexOf("<!-- readme-app:start -->");
  const end = readme.indexOf("<!-- readme-app:end -->");
  if (start < 0 || end < start) throw new Error("README.md has no readme-app block");
  const block = readme
    .slice(start, end)
    .replace(/^[\s\S]*?```tsx\n/, "")
    .replace(/```\s*$/, "");
  const files = new Map<string, string>();
  let current: string | undefined;
  for (const line of block.split("\n")) {
    const header = /^\/\/ file: ([^\s:]+)/.exec(line);
    if (header?.[1]) {
      current = header[1];
      files.set(current, "");
    } else if (current) {
      files.set(current, `${files.get(current)}${line}\n`);
    }
  }
  return files;
}

let app: Awaited<ReturnType<typeof startApp>> | undefined;

beforeAll(async () => {
  rmSync(APP_DIR, { recursive: true, force: true });
  const files = readmeFiles();
  expect([...files.keys()]).toEqual(
    expect.arrayContaining(["auth.ts", "proxy.ts", "app/api/auth/[...nextauth]/route.ts"]),
  );
  for (const [path, content] of files) {
    mkdirSync(dirname(join(APP_DIR, path)), { recursive: true });
    writeFileSync(join(APP_DIR, path), content.trimStart());
  }
  // What the README leaves to the app's own setup: TypeScript and, because this app lives inside
  // the repository (which links the package), Turbopack's root.
  writeFileSync(
    join(APP_DIR, "next.config.mjs"),
    `export default { turbopack: { root: ${JSON.stringify(REPOSITORY_ROOT)} }, outputFileTracingRoot: ${JSON.stringify(REPOSITORY_ROOT)} };\n`,
  );
  writeFileSync(
    join(APP_DIR, "tsconfig.json"),
    JSON.stringify(
      {
        compilerOptions: {
          target: "ES2022",
          lib: ["dom", "dom.iterable", "ES2023"],
          strict: true,
          noEmit: true,
          module: "esnext",
          moduleResolution: "bundler",
          jsx: "react-jsx",
          isolatedModules: true,
          skipLibCheck: true,
          esModuleInterop: true,
          plugins: [{ name: "next" }],
        },
        include: ["**/*.ts", "**/*.tsx"],
        exclude: ["node_modules"],
      },
      null,
      2,
    ),
  );
  // `next build` evaluates auth.ts: BACKEND_URL must be set then too (README, Environment).
  await buildApp(APP_DIR, "readme-app", { BACKEND_URL: inject("backendUrl") });
  app = await startApp(inject("backendUrl"), "start", {
    dir: APP_DIR,
    name: "readme-app",
    readyPath: "/signin",
  });
}, 300_000);

afterAll(async () => {
  await app?.stop();
});

describe("the README's Next.js block, built as a fresh app (next build + next start)", () => {
  it("12 signs in, shows the backend profile, refreshes past expiry without signing out, and signs out at the backend", async () => {
    const url = app?.url ?? "";
    const { page } = await openContext(suite.browser, "12-readme-app", url);
    await page.goto("/dashboard");
    await page.waitForURL((target) => target.pathname === "/signin");

    await page.getByLabel("Email").fill(USER.email);
    await page.getByLabel("Password").fill("not-the-password");
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.getByText("Wrong email or password.").waitFor();

    // React resets an action's form after it ran: fill both fields again.
    await page.getByLabel("Email").fill(USER.email);
    await page.getByLabel("Password").fill(USER.password);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.waitForURL((target) => target.pathname === "/dashboard", { timeout: 60_000 });
    expect(await page.getByTestId("email").textContent()).toBe(USER.email);
    expect(JSON.parse((await page.getByTestId("profile").textContent()) ?? "null")).toMatchObject({
      email: USER.email,
    });

    const before = await control.stats();
    await waitPastExpiry(Date.now() / 1000 + ACCESS_TOKEN_TTL);
    await page.reload();
    expect(new URL(page.url()).pathname).toBe("/dashboard");
    expect(await page.getByTestId("email").textContent()).toBe(USER.email);
    const after = await control.stats();
    expect(after.refreshSucceeded - before.refreshSucceeded).toBeGreaterThanOrEqual(1);
    expect(after.reuseDetected).toBe(0);

    await page.getByRole("button", { name: "Sign out" }).click();
    await page.waitForURL((target) => target.pathname === "/signin");
    expect((await control.stats()).logout - after.logout).toBe(1);
    await page.goto("/dashboard");
    expect(new URL(page.url()).pathname).toBe("/signin");
  });
});
