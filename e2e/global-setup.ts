import { join } from "node:path";
import type { TestProject } from "vitest/node";
import { RESULTS_DIR, startApp, startBackend } from "./servers.js";

declare module "vitest" {
  export interface ProvidedContext {
    appUrl: string;
    /** The app's AUTH_SECRET (to seal session cookies under another name in tests). */
    appSecret: string;
    backendUrl: string;
    /** The app server's stdout + stderr, written as it arrives. */
    appLogFile: string;
  }
}

/** Starts the backend and the built app once for the whole suite; stops both afterwards. */
export default async function setup(project: TestProject) {
  const backend = await startBackend();
  let app: Awaited<ReturnType<typeof startApp>>;
  try {
    app = await startApp(backend.url);
  } catch (error) {
    await backend.stop();
    throw error;
  }
  project.provide("appUrl", app.url);
  project.provide("appSecret", app.secret);
  project.provide("backendUrl", backend.url);
  project.provide("appLogFile", join(RESULTS_DIR, "app-server.log"));
  return async () => {
    await app.stop();
    await backend.stop();
  };
}
