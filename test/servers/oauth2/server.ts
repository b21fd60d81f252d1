/**
 * An RFC 6749 authorization server built on `@node-oauth/oauth2-server` (the library does the
 * token endpoint and Bearer authentication; this file adds the model, the HTTP plumbing and an
 * RFC 7009 revocation route, which the library does not have).
 *
 * - `POST /oauth/token`: password and refresh_token grants, form-encoded, client authentication by
 *   HTTP Basic or `client_id`/`client_secret` in the body (RFC 6749 §2.3.1). Every refresh issues
 *   a new refresh token and revokes the presented one (`alwaysIssueNewRefreshToken`). Errors are
 *   RFC 6749 §5.2 JSON: `invalid_grant` for a wrong password or a bad, revoked or used refresh
 *   token, `invalid_client` for a wrong client secret (401 with `WWW-Authenticate` when the client
 *   used Basic, 400 otherwise).
 * - `POST /oauth/revoke`: RFC 7009 (`token`, optional `token_type_hint`, client authentication);
 *   200 for any token, known or not. Revoking a refresh token also revokes the access tokens of
 *   its grant (RFC 7009 §2.1).
 * - `GET /me`: Bearer access token with scope `profile` (RFC 6750) → `{ sub, name, email }`.
 *
 * One client (`app` / `app-secret`), one user (`alice` / `wonderland`), tokens in memory. Token
 * lifetimes run on the real clock (`Date.now`), as the library reads it: a test that advances the
 * relying party's fake clock does not expire anything here. Every request is recorded in `seen`.
 *
 * Plain `node:http`, no framework; started and stopped by test/harness/oauth2-server.ts.
 */
import { AsyncLocalStorage } from "node:async_hooks";
import { createHash, randomUUID, timingSafeEqual } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import OAuth2Server from "@node-oauth/oauth2-server";

/** The one registered client: confidential, password and refresh_token grants. */
export const OAUTH2_CLIENT = { id: "app", secret: "app-secret" } as const;

/** The one resource owner. */
export const OAUTH2_USER = {
  sub: "u-alice",
  username: "alice",
  password: "wonderland",
  name: "Alice Liddell",
  email: "alice@example.com",
} as const;

const TOKEN_PATH = "/oauth/token";
const REVOCATION_PATH = "/oauth/revoke";
const PROFILE_PATH = "/me";
/** Scopes the server grants; `profile` is what `GET /me` requires and the default grant. */
const SCOPES = ["profile", "email"];
const BODY_LIMIT = 64 * 1024;

export interface OAuth2AppOptions {
  /** Access-token lifetime in seconds (`expires_in`). @default 600 */
  accessTokenLifetime?: number;
  /** Refresh-token lifetime in seconds. @default 1209600 (two weeks, the library's default) */
  refreshTokenLifetime?: number;
}

/** A token as the model stores it; `grantId` ties the tokens of one sign-in together. */
type StoredToken = OAuth2Server.Token & { grantId: string };

/** What the server keeps: tokens by value. Survives a restart of the HTTP listener. */
export interface OAuth2Store {
  accessTokens: Map<string, StoredToken>;
  refreshTokens: Map<string, StoredToken>;
}

/** One request as the server saw it. */
export interface SeenRequest {
  method: string;
  path: string;
  /**
   * How the client authenticated: `Authorization: Basic` (`basic`), `client_id` and
   * `client_secret` in the body (`body`), both (`both`, which RFC 6749 forbids; the library lets
   * Basic win) or neither (`none`).
   */
  clientAuth: "basic" | "body" | "both" | "none";
  /** The `Authorization` header as sent. */
  authorization: string | undefined;
  /** The form fields (empty unless `application/x-www-form-urlencoded`). */
  form: Record<string, string>;
  /** The answer's status (0 until answered). */
  status: number;
  /** The answer's OAuth `error` code, if any. */
  error?: string;
}

interface Reply {
  status: number;
  headers?: Record<string, string>;
  body?: unknown;
}

/** The server's request handler, its store and what it saw. */
export function oauth2App(options: OAuth2AppOptions = {}) {
  const store: OAuth2Store = { accessTokens: new Map(), refreshTokens: new Map() };
  const seen: SeenRequest[] = [];
  /** Per token request: the grant a refresh continues (set by `revokeToken`, read by `saveToken`). */
  const grantContext = new AsyncLocalStorage<{ grantId?: string }>();

  const client: OAuth2Server.Client = {
    id: OAUTH2_CLIENT.id,
    grants: ["password", "refresh_token"],
  };
  const user: OAuth2Server.User = {
    sub: OAUTH2_USER.sub,
    username: OAUTH2_USER.username,
    name: OAUTH2_USER.name,
    email: OAUTH2_USER.email,
  };

  const model: OAuth2Server.PasswordModel &
    OAuth2Server.RefreshTokenModel &
    Required<Pick<OAuth2Server.RequestAuthenticationModel, "verifyScope">> = {
    // The library passes the secret whenever the grant requires client authentication (all of
    // them by default): checking it is the model's job.
    async getClient(clientId, clientSecret) {
      return clientId === OAUTH2_CLIENT.id && sameSecret(clientSecret, OAUTH2_CLIENT.secret)
        ? client
        : false;
    },
    async getUser(username, password) {
      return username === OAUTH2_USER.username && sameSecret(password, OAUTH2_USER.password)
        ? user
        : false;
    },
    // Without validateScope any requested scope is granted as asked, and none means none.
    async validateScope(_user, _client, scope) {
      if (!scope) return ["profile"];
      return scope.every((name) => SCOPES.includes(name)) ? scope : false;
    },
    async verifyScope(token, scope) {
      return scope.every((name) => token.scope?.includes(name) ?? false);
    },
    async saveToken(token, tokenClient, tokenUser) {
      const grantId = grantContext.getStore()?.grantId ?? randomUUID();
      const saved: StoredToken = { ...token, client: tokenClient, user: tokenUser, grantId };
      store.accessTokens.set(saved.accessToken, saved);
      if (saved.refreshToken) store.refreshTokens.set(saved.refreshToken, saved);
      return saved;
    },
    async getAccessToken(accessToken) {
      return store.accessTokens.get(accessToken) ?? false;
    },
    async getRefreshToken(refreshToken) {
      const token = store.refreshTokens.get(refreshToken);
      if (!token?.refreshToken) return false;
      return { ...token, refreshToken: token.refreshToken };
    },
    // Called by the refresh_token grant (rotation). Returning false makes the library answer
    // invalid_grant: of two concurrent refreshes with one token, only the first succeeds.
    async revokeToken(token) {
      const stored = store.refreshTokens.get(token.refreshToken);
      if (!stored) return false;
      store.refreshTokens.delete(token.refreshToken);
      const context = grantContext.getStore();
      if (context) context.grantId = stored.grantId;
      return true;
    },
  };

  const oauth = new OAuth2Server({
    model,
    accessTokenLifetime: options.accessTokenLifetime ?? 600,
    refreshTokenLifetime: options.refreshTokenLifetime ?? 14 * 24 * 3600,
    alwaysIssueNewRefreshToken: true,
    allowBearerTokensInQueryString: false,
  });

  /** Revokes a refresh token and the access tokens of its grant; `false` if it was unknown. */
  function revokeGrantOf(refreshToken: string): boolean {
    const token = store.refreshTokens.get(refreshToken);
    if (!token) return false;
    store.refreshTokens.delete(refreshToken);
    for (const [value, access] of store.accessTokens) {
      if (access.grantId === token.grantId) store.accessTokens.delete(value);
    }
    return true;
  }

  async function tokenEndpoint(request: OAuth2Server.Request): Promise<Reply> {
    const response = new OAuth2Server.Response();
    try {
      await grantContext.run({}, () => oauth.token(request, response));
      return { status: response.status ?? 200, headers: response.headers, body: response.body };
    } catch (error) {
      return oauthError(error, response);
    }
  }

  async function revocationEndpoint(request: OAuth2Server.Request, seenRequest: SeenRequest) {
    // RFC 7009 §2.1: POST, form-encoded, client authentication as at the token endpoint.
    if (request.method !== "POST" || !request.is(["application/x-www-form-urlencoded"])) {
      return errorReply(400, "invalid_request", "POST a form-encoded body");
    }
    const basic = seenRequest.clientAuth === "basic" || seenRequest.clientAuth === "both";
    const credentials = clientCredentials(seenRequest);
    const authenticated =
      credentials && (await model.getClient(credentials.id, credentials.secret ?? ""));
    if (!authenticated) {
      // RFC 6749 §5.2, as the library does at the token endpoint.
      return {
        ...errorReply(basic ? 401 : 400, "invalid_client", "Invalid client"),
        headers: basic ? { "www-authenticate": 'Basic realm="Service"' } : {},
      };
    }
    const { token, token_type_hint: hint } = seenRequest.form;
    if (!token) return errorReply(400, "invalid_request", "Missing parameter: `token`");
    // The hint is where to look first; unknown hints are ignored (§2.1), unknown tokens are not
    // an error (§2.2): the answer is 200 either way.
    const lookups = hint === "access_token" ? ["access", "refresh"] : ["refresh", "access"];
    for (const kind of lookups) {
      const stored = (kind === "refresh" ? store.refreshTokens : store.accessTokens).get(token);
      if (!stored || stored.client.id !== authenticated.id) continue;
      if (kind === "refresh") revokeGrantOf(token);
      else store.accessTokens.delete(token);
      break;
    }
    return { status: 200, headers: { "cache-control": "no-store" } };
  }

  async function profileEndpoint(request: OAuth2Server.Request): Promise<Reply> {
    const response = new OAuth2Server.Response();
    try {
      const token = await oauth.authenticate(request, response, { scope: ["profile"] });
      const owner = token.user;
      return {
        status: 200,
        headers: response.headers,
        body: { sub: owner.sub, name: owner.name, email: owner.email },
      };
    } catch (error) {
      // RFC 6750 §3.1: a request without credentials gets the challenge, no error code.
      if (error instanceof OAuth2Server.UnauthorizedRequestError) {
        return { status: 401, headers: { ...response.headers, "cache-control": "no-store" } };
      }
      return oauthError(error, response);
    }
  }

  async function handle(incoming: IncomingMessage, outgoing: ServerResponse): Promise<void> {
    const url = new URL(incoming.url ?? "/", "http://127.0.0.1");
    const headers = headerRecord(incoming);
    const raw = await readBody(incoming);
    const isForm = (headers["content-type"] ?? "")
      .toLowerCase()
      .startsWith("application/x-www-form-urlencoded");
    const { form, repeated } = isForm ? parseForm(raw) : { form: {}, repeated: [] };
    const authorization = headers.authorization;
    const basic = /^basic /i.test(authorization ?? "");
    const inBody = form.client_id !== undefined && form.client_secret !== undefined;
    const seenRequest: SeenRequest = {
      method: incoming.method ?? "GET",
      path: url.pathname,
      clientAuth: basic && inBody ? "both" : basic ? "basic" : inBody ? "body" : "none",
      authorization,
      form,
      status: 0,
    };
    seen.push(seenRequest);

    const request = new OAuth2Server.Request({
      method: seenRequest.method,
      headers,
      query: Object.fromEntries(url.searchParams),
      body: form,
    });
    let reply: Reply;
    if (repeated.length > 0) {
      // RFC 6749 §3.1: parameters MUST NOT be included more than once.
      reply = errorReply(400, "invalid_request", `repeated parameter: ${repeated.join(", ")}`);
    } else if (url.pathname === TOKEN_PATH) {
      reply = await tokenEndpoint(request);
    } else if (url.pathname === REVOCATION_PATH) {
      reply = await revocationEndpoint(request, seenRequest);
    } else if (url.pathname === PROFILE_PATH && seenRequest.method === "GET") {
      reply = await profileEndpoint(request);
    } else {
      reply = errorReply(404, "not_found", `no route ${seenRequest.method} ${url.pathname}`);
    }

    seenRequest.status = reply.status;
    const error = (reply.body as { error?: unknown } | undefined)?.error;
    if (typeof error === "string") seenRequest.error = error;
    outgoing.statusCode = reply.status;
    for (const [name, value] of Object.entries(reply.headers ?? {}))
      outgoing.setHeader(name, value);
    if (reply.body === undefined) {
      outgoing.end();
      return;
    }
    outgoing.setHeader("content-type", "application/json;charset=UTF-8");
    outgoing.end(JSON.stringify(reply.body));
  }

  return {
    /** The `node:http` request listener. */
    handle: (incoming: IncomingMessage, outgoing: ServerResponse) => {
      handle(incoming, outgoing).catch((error: unknown) => {
        outgoing.statusCode = 500;
        outgoing.end(String(error));
      });
    },
    store,
    seen,
    revokeGrantOf,
  };
}

/** The client's id and secret, from Basic (which wins, as in the library) or the body. */
function clientCredentials(request: SeenRequest): { id: string; secret?: string } | undefined {
  const basic = /^basic (.+)$/i.exec(request.authorization ?? "")?.[1];
  if (basic) {
    // As the library (the `basic-auth` package) reads it: no form-urldecoding of the parts.
    const decoded = Buffer.from(basic, "base64").toString("utf8");
    const colon = decoded.indexOf(":");
    if (colon < 0) return undefined;
    return { id: decoded.slice(0, colon), secret: decoded.slice(colon + 1) };
  }
  const { client_id: id, client_secret: secret } = request.form;
  if (!id) return undefined;
  return secret === undefined ? { id } : { id, secret };
}

/** A constant-time comparison of a presented secret with the expected one. */
function sameSecret(presented: string | undefined, expected: string): boolean {
  if (typeof presented !== "string") return false;
  const digest = (value: string) => createHash("sha256").update(value).digest();
  return timingSafeEqual(digest(presented), digest(expected));
}

/** RFC 6749 §5.2 (and RFC 6750 §3.1 at `/me`) from the library's error and response. */
function oauthError(error: unknown, response: OAuth2Server.Response): Reply {
  if (!(error instanceof OAuth2Server.OAuthError) || error.code >= 500) {
    return errorReply(500, "server_error", "Internal error");
  }
  return {
    ...errorReply(error.code, error.name, error.message),
    headers: { ...response.headers, "cache-control": "no-store" },
  };
}

function errorReply(status: number, error: string, description: string): Reply {
  return {
    status,
    headers: { "cache-control": "no-store" },
    body: { error, error_description: description },
  };
}

function headerRecord(incoming: IncomingMessage): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(incoming.headers)) {
    if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(", ") : value;
  }
  return headers;
}

async function readBody(incoming: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of incoming) {
    size += (chunk as Buffer).byteLength;
    if (size > BODY_LIMIT) break;
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString("utf8");
}

function parseForm(raw: string): { form: Record<string, string>; repeated: string[] } {
  const form: Record<string, string> = {};
  const repeated: string[] = [];
  for (const [name, value] of new URLSearchParams(raw)) {
    if (name in form) repeated.push(name);
    form[name] = value;
  }
  return { form, repeated };
}
