/** Free loopback ports, for servers the harness starts (redis-server, the e2e app and backend). */
import { createServer } from "node:net";

/** A free TCP port on 127.0.0.1 (it can be taken again before the caller binds it). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() =>
        typeof address === "object" && address
          ? resolve(address.port)
          : reject(new Error("no port")),
      );
    });
  });
}
