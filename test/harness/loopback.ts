/** Tiny HTTP servers of a test's own, on 127.0.0.1. */
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { onTestFinished } from "vitest";

/**
 * Starts `server` on a free loopback port and closes it (connections included) when the current
 * test finishes. Resolves to its base URL, e.g. `http://127.0.0.1:41234`.
 */
export async function listenForTest(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  onTestFinished(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  );
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}
