import { randomBytes } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { onTestFinished } from "vitest";
import type { BackendCredentialsOptions } from "../../src/index.js";
import { providerSetup } from "./provider-setup.js";

/**
 * What a hostile or careless backend does. Every knob is off by default; the rest is a small,
 * well-behaved backend: `POST /auth/login` (any email, password `"secret"`), `POST /auth/refresh`
 * (JSON `{ refreshToken }` or `Authorization: Bearer`, single-use rotation with reuse
 * detection), `POST /auth/logout`.
 */
export interface HostileBehaviour {
  /** A cookie flood at login: `count` extra HttpOnly cookies of `bytes` bytes each. */
  loginCookies?: { count: number; bytes: number };
  /** A new cookie of this many bytes on every refresh (a jar that grows without end). */
  growPerRefresh?: number;
  /**
   * On every refresh, one of the login flood's cookies (`flood_<n>`, in turn) is set again with
   * this many bytes: stored cookies that grow.
   */
  regrowPerRefresh?: number;
  /** A profile field (`user.notes`) of this many bytes in the login body. */
  profileFieldBytes?: number;
  /** Tokens this long (bytes), e.g. to exceed the session budget with tokens alone. */
  tokenBytes?: number;
  /**
   * A login body streamed without `Content-Length` (chunked) until the client stops reading or
   * this many bytes are sent.
   */
  hugeLoginBodyBytes?: number;
  /** A token containing CR/LF, in the login or the refresh response. */
  lineBreakToken?: { at: "login" | "refresh"; token: "access" | "refresh" };
  /** Extra `Set-Cookie` values sent verbatim at login (hostile attributes, names, paths). */
  loginSetCookies?: readonly string[];
  /** Access-token lifetime in seconds (`expires_in`). @default 600 */
  accessTokenTtlSeconds?: number;
}

/** What the hostile backend saw. */
interface HostileStats {
  login: number;
  refresh: number;
  refreshSucceeded: number;
  reuseDetected: number;
  logout: number;
  /** Bytes of the streamed login body actually written before the client went away. */
  streamedBytes: number;
  /** `true` once a streamed body was cut off by the client. */
  streamAborted: boolean;
}

interface HostileBackend {
  url: string;
  stats: HostileStats;
  behaviour: HostileBehaviour;
  /** Resolves when a streamed login body has ended (sent whole or cut off by the client). */
  streamEnded(): Promise<void>;
  close(): Promise<void>;
}

const token = (bytes: number) =>
  randomBytes(Math.ceil(bytes / 2))
    .toString("hex")
    .slice(0, bytes);

/** Starts the hostile backend on 127.0.0.1 (a free port); closed when the test finishes. */
async function startHostileBackend(behaviour: HostileBehaviour = {}): Promise<HostileBackend> {
  const stats: HostileStats = {
    login: 0,
    refresh: 0,
    refreshSucceeded: 0,
    reuseDetected: 0,
    logout: 0,
    streamedBytes: 0,
    streamAborted: false,
  };
  /** refresh token → its family, and whether it was already used. */
  const refreshTokens = new Map<string, { family: string; used: boolean }>();
  const revoked = new Set<string>();
  let grown = 0;
  let streamDone: () => void = () => {};
  const streamEnded = new Promise<void>((resolve) => {
    streamDone = resolve;
  });

  function issue(family: string, at: "login" | "refresh") {
    const size = behaviour.tokenBytes ?? 32;
    let accessToken = token(size);
    let refreshToken = token(size);
    const broken = behaviour.lineBreakToken;
    if (broken?.at === at) {
      if (broken.token === "access") accessToken = `${accessToken}\r\nX-Injected: 1`;
      else refreshToken = `${refreshToken}\r\nX-Injected: 1`;
    }
    refreshTokens.set(refreshToken, { family, used: false });
    return {
      accessToken,
      refreshToken,
      expires_in: behaviour.accessTokenTtlSeconds ?? 600,
    };
  }

  function send(
    response: ServerResponse,
    status: number,
    body: unknown,
    cookies: readonly string[] = [],
  ) {
    response.sendDate = false; // tests run on a fake clock: no Date header to correct against
    response.statusCode = status;
    response.setHeader("content-type", "application/json");
    if (cookies.length > 0) response.setHeader("set-cookie", [...cookies]);
    response.end(JSON.stringify(body));
  }

  async function readJson(request: IncomingMessage): Promise<Record<string, unknown>> {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    try {
      return JSON.parse(Buffer.concat(chunks).toString("utf8")) as Record<string, unknown>;
    } catch {
      return {};
    }
  }

  function streamLogin(response: ServerResponse, limit: number) {
    response.sendDate = false;
    response.statusCode = 200;
    response.setHeader("content-type", "application/json");
    const chunk = Buffer.alloc(64 * 1024, "a");
    const finish = (aborted: boolean) => {
      stats.streamAborted ||= aborted;
      streamDone();
    };
    response.on("close", () => finish(!response.writableFinished));
    response.write('{"padding":"');
    const pump = () => {
      while (stats.streamedBytes < limit) {
        stats.streamedBytes += chunk.byteLength;
        if (!response.write(chunk)) {
          response.once("drain", pump);
          return;
        }
      }
      response.end('"}');
    };
    pump();
  }

  const server = createServer(async (request, response) => {
    const path = new URL(request.url ?? "/", "http://127.0.0.1").pathname;
    const body = await readJson(request);
    if (path === "/auth/login") {
      stats.login++;
      if (body.password !== "secret") return send(response, 401, { error: "invalid_credentials" });
      if (behaviour.hugeLoginBodyBytes) return streamLogin(response, behaviour.hugeLoginBodyBytes);
      const family = token(16);
      const cookies = [...(behaviour.loginSetCookies ?? [])];
      const flood = behaviour.loginCookies;
      for (let i = 0; flood && i < flood.count; i++) {
        cookies.push(`flood_${i}=${"f".repeat(flood.bytes)}; Path=/; HttpOnly`);
      }
      const user: Record<string, unknown> = {
        id: "u1",
        email: typeof body.email === "string" ? body.email : "user@example.com",
        name: "Hostile User",
        roles: ["user"],
      };
      if (behaviour.profileFieldBytes) user.notes = "n".repeat(behaviour.profileFieldBytes);
      return send(response, 200, { ...issue(family, "login"), user }, cookies);
    }
    if (path === "/auth/refresh") {
      stats.refresh++;
      const bearer = /^Bearer (.+)$/.exec(request.headers.authorization ?? "")?.[1];
      const presented = typeof body.refreshToken === "string" ? body.refreshToken : (bearer ?? "");
      const record = refreshTokens.get(presented);
      if (!record || revoked.has(record.family)) {
        return send(response, 401, { error: "invalid_grant" });
      }
      if (record.used) {
        stats.reuseDetected++;
        revoked.add(record.family);
        return send(response, 401, { error: "invalid_grant" });
      }
      record.used = true;
      stats.refreshSucceeded++;
      const cookies: string[] = [];
      if (behaviour.growPerRefresh) {
        cookies.push(`grow_${grown++}=${"g".repeat(behaviour.growPerRefresh)}; Path=/; HttpOnly`);
      }
      const count = behaviour.loginCookies?.count ?? 0;
      if (behaviour.regrowPerRefresh && count > 0) {
        const name = `flood_${stats.refreshSucceeded % count}`;
        cookies.push(`${name}=${"r".repeat(behaviour.regrowPerRefresh)}; Path=/; HttpOnly`);
      }
      return send(response, 200, issue(record.family, "refresh"), cookies);
    }
    if (path === "/auth/logout") {
      stats.logout++;
      const presented = typeof body.refreshToken === "string" ? body.refreshToken : "";
      const record = refreshTokens.get(presented);
      if (record) revoked.add(record.family);
      response.statusCode = 204;
      return response.end();
    }
    send(response, 404, { error: "not_found" });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  const close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  onTestFinished(close);
  return {
    url: `http://127.0.0.1:${port}`,
    stats,
    behaviour,
    streamEnded: () => streamEnded,
    close,
  };
}

/** The credentials the hostile backend accepts. */
export const HOSTILE_USER = { email: "user@example.com", password: "secret" };

/**
 * A hostile backend and an Auth.js config using BackendCredentials against it (tokens in the
 * JSON body, logout configured), on a fake clock, with every log line recorded.
 */
export async function hostileSetup(
  behaviour: HostileBehaviour = {},
  providerOptions: Partial<BackendCredentialsOptions> = {},
) {
  const backend = await startHostileBackend(behaviour);
  return {
    backend,
    ...providerSetup({
      baseUrl: backend.url,
      endpoints: { logout: "/auth/logout" },
      tokens: { accessToken: { body: "accessToken" }, refreshToken: { body: "refreshToken" } },
      ...providerOptions,
    }),
  };
}
