/**
 * The RFC 6749 authorization server of test/servers/oauth2 (`@node-oauth/oauth2-server`), on a
 * free 127.0.0.1 port, in this process. No vitest import: whoever starts it stops it.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import {
  OAUTH2_CLIENT,
  OAUTH2_USER,
  type OAuth2AppOptions,
  type OAuth2Store,
  oauth2App,
  type SeenRequest,
} from "../servers/oauth2/server.js";

export { OAUTH2_CLIENT, OAUTH2_USER };

/** The credentials the server's one user signs in with (the `oauth2` option's form fields). */
export const ALICE = { username: OAUTH2_USER.username, password: OAUTH2_USER.password };

interface OAuth2TestServer {
  /** `http://127.0.0.1:<port>`, the same across restarts. */
  url: string;
  /** Tokens by value; kept across `stop()`/`restart()`. */
  store: OAuth2Store;
  /** Every request the server answered or is answering, in arrival order. */
  seen: SeenRequest[];
  /** How many requests to `path` the server saw (those matching `where`, if given). */
  count(path: string, where?: (request: SeenRequest) => boolean): number;
  /** Forgets what the server saw (not the tokens). */
  reset(): void;
  /**
   * Revokes a refresh token at the server, as an administrator would (and the access tokens of
   * its grant); `false` if the server did not know it.
   */
  revoke(refreshToken: string): boolean;
  /** Stops listening and drops open connections: clients now get ECONNREFUSED. Idempotent. */
  stop(): Promise<void>;
  /** Listens again on the same port with the same store (stops first if running). */
  restart(): Promise<void>;
}

/** Starts the server on a free port of 127.0.0.1. */
export async function startOAuth2Server(options: OAuth2AppOptions = {}): Promise<OAuth2TestServer> {
  const app = oauth2App(options);
  let server: Server | undefined;
  const listen = (port: number) =>
    new Promise<Server>((resolve, reject) => {
      const candidate = createServer(app.handle);
      candidate.once("error", reject);
      candidate.listen(port, "127.0.0.1", () => resolve(candidate));
    });
  server = await listen(0);
  const { port } = server.address() as AddressInfo;

  const stop = async () => {
    const running = server;
    if (!running) return;
    server = undefined;
    await new Promise<void>((resolve) => {
      running.close(() => resolve());
      running.closeAllConnections();
    });
  };

  return {
    url: `http://127.0.0.1:${port}`,
    store: app.store,
    seen: app.seen,
    count: (path, where = () => true) =>
      app.seen.filter((request) => request.path === path && where(request)).length,
    reset: () => {
      app.seen.length = 0;
    },
    revoke: (refreshToken) => app.revokeGrantOf(refreshToken),
    stop,
    async restart() {
      await stop();
      server = await listen(port);
    },
  };
}
