/**
 * A counting reverse proxy for third-party backends the tests cannot instrument (Django, OAuth 2.0
 * servers): it forwards every request to `targetUrl` and counts them by path, so a test asserts
 * what actually reached the backend rather than what the library logged.
 */
import { createServer, request as httpRequest, type IncomingHttpHeaders } from "node:http";
import type { AddressInfo } from "node:net";

export interface CountingProxy {
  /** The proxy's base URL, e.g. `http://127.0.0.1:41234`; point the provider's `baseUrl` here. */
  url: string;
  /** Requests seen per pathname (query string excluded), including those answered 502. */
  counts: Map<string, number>;
  /** Requests seen for `pathname` so far (0 when none). */
  count(pathname: string): number;
  /** Forgets every count. */
  reset(): void;
  /** Stops listening and drops open connections. Idempotent. */
  close(): Promise<void>;
}

/** Connection-level headers: each hop sets its own (RFC 9110 §7.6.1). */
const HOP_BY_HOP = new Set([
  "connection",
  "keep-alive",
  "proxy-authenticate",
  "proxy-authorization",
  "proxy-connection",
  "te",
  "trailer",
  "transfer-encoding",
  "upgrade",
]);

function forwardedRequestHeaders(headers: IncomingHttpHeaders, target: URL): IncomingHttpHeaders {
  const forwarded: IncomingHttpHeaders = {};
  for (const [name, value] of Object.entries(headers)) {
    if (!HOP_BY_HOP.has(name)) forwarded[name] = value;
  }
  forwarded.host = target.host; // as a reverse proxy does by default (nginx `proxy_pass`)
  return forwarded;
}

/** Response headers as a flat `[name, value, name, value, …]` list: repeated `Set-Cookie` kept. */
function forwardedResponseHeaders(rawHeaders: readonly string[]): string[] {
  const forwarded: string[] = [];
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const name = rawHeaders[i]!;
    if (!HOP_BY_HOP.has(name.toLowerCase())) forwarded.push(name, rawHeaders[i + 1]!);
  }
  return forwarded;
}

/**
 * Starts a proxy on 127.0.0.1 (a free port) in front of `targetUrl` (an http: origin; its path
 * is ignored). Method, path, query, headers and body go through unchanged except `Host`; status,
 * headers (every `Set-Cookie`) and body come back unchanged. When the target cannot be reached it
 * answers `502 {"error":"bad_gateway"}`, as a gateway in front of a stopped server would.
 */
export async function startCountingProxy(targetUrl: string | URL): Promise<CountingProxy> {
  const target = new URL(targetUrl);
  if (target.protocol !== "http:") throw new TypeError("startCountingProxy: only http: targets");
  const counts = new Map<string, number>();
  const server = createServer((incoming, outgoing) => {
    const path = incoming.url ?? "/";
    const pathname = new URL(path, "http://proxy").pathname;
    counts.set(pathname, (counts.get(pathname) ?? 0) + 1);
    const upstream = httpRequest(
      {
        host: target.hostname,
        port: Number(target.port) || 80,
        method: incoming.method,
        path,
        headers: forwardedRequestHeaders(incoming.headers, target),
        agent: false, // a fresh connection each time: no stale socket after a target restart
      },
      (answer) => {
        outgoing.writeHead(
          answer.statusCode ?? 502,
          answer.statusMessage,
          forwardedResponseHeaders(answer.rawHeaders),
        );
        answer.pipe(outgoing);
        answer.once("error", () => outgoing.destroy());
      },
    );
    upstream.once("error", () => {
      if (outgoing.headersSent) {
        outgoing.destroy();
        return;
      }
      outgoing.writeHead(502, { "content-type": "application/json" });
      outgoing.end(JSON.stringify({ error: "bad_gateway" }));
    });
    incoming.pipe(upstream);
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  let closing: Promise<void> | undefined;
  return {
    url: `http://127.0.0.1:${port}`,
    counts,
    count: (pathname) => counts.get(pathname) ?? 0,
    reset: () => counts.clear(),
    close() {
      closing ??= new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      });
      return closing;
    },
  };
}
