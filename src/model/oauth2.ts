/**
 * The part of the provider options the `oauth2` preset reads and fills in (structural, so this
 * module does not import the options module that imports it).
 */
interface PresetTarget {
  oauth2?: OAuth2Options | undefined;
  endpoints?: { login?: unknown; refresh?: unknown; logout?: unknown; profile?: unknown };
  credentials?: unknown;
  loginBody?: unknown;
  refreshBody?: unknown;
  logoutBody?: unknown;
  tokens?: { accessToken?: unknown; refreshToken?: unknown };
  refreshTokenTransport?: unknown;
}

/** An RFC 6749 token endpoint as the backend (the `oauth2` option of `BackendCredentials`). */
export interface OAuth2Options {
  /** Path of the token endpoint (password and refresh_token grants), e.g. `"/oauth/token"`. */
  tokenPath: string;
  /**
   * Path of the RFC 7009 revocation endpoint, called at sign-out with the refresh token, or
   * `false` when the server has none.
   * @default false
   */
  revocationPath?: string | false;
  /** The client id registered at the server. */
  clientId: string;
  /** The client secret, for confidential clients. @default none (a public client) */
  clientSecret?: string;
  /**
   * How the client authenticates (RFC 6749 §2.3.1): `client_secret_basic` (HTTP Basic) or
   * `client_secret_post` (`client_id` and `client_secret` in the form body). A public client
   * without a secret always sends `client_id` in the body.
   * @default "client_secret_basic"
   */
  clientAuthentication?: "client_secret_basic" | "client_secret_post";
  /** The `scope` asked for at sign-in (space-separated). @default none */
  scope?: string;
}

const OWNER = "BackendCredentials";

/**
 * @internal Expands the `oauth2` option into plain request shaping: form-encoded token and
 * revocation calls with client authentication, the standard token fields, and `username` /
 * `password` credentials. Options the app gives itself win over what this fills in.
 */
export function withOAuth2<Options extends PresetTarget>(options: Options): Options {
  const oauth2 = options.oauth2;
  if (oauth2 === undefined) return options;
  if (typeof oauth2 !== "object" || oauth2 === null) {
    throw new TypeError(`${OWNER}: option oauth2 must be an object`);
  }
  for (const name of ["tokenPath", "clientId"] as const) {
    if (typeof oauth2[name] !== "string" || oauth2[name] === "") {
      throw new TypeError(`${OWNER}: option oauth2.${name} must be a non-empty string`);
    }
  }
  const { clientId, clientSecret, scope } = oauth2;
  if (clientSecret !== undefined && (typeof clientSecret !== "string" || clientSecret === "")) {
    throw new TypeError(`${OWNER}: option oauth2.clientSecret must be a non-empty string`);
  }
  const method = oauth2.clientAuthentication ?? "client_secret_basic";
  if (method !== "client_secret_basic" && method !== "client_secret_post") {
    throw new TypeError(
      `${OWNER}: option oauth2.clientAuthentication must be "client_secret_basic" or "client_secret_post"`,
    );
  }
  const revocation = oauth2.revocationPath ?? false;
  if (revocation !== false && (typeof revocation !== "string" || revocation === "")) {
    throw new TypeError(`${OWNER}: option oauth2.revocationPath must be a path or false`);
  }
  // RFC 6749 §2.3.1: Basic credentials are the form-urlencoded id and secret.
  const basic = clientSecret !== undefined && method === "client_secret_basic";
  const headers: Record<string, string> = basic
    ? {
        authorization: `Basic ${btoa(`${formEncode(clientId)}:${formEncode(clientSecret)}`)}`,
      }
    : {};
  const client: Record<string, string> = basic
    ? {}
    : { client_id: clientId, ...(clientSecret !== undefined && { client_secret: clientSecret }) };
  const form = (path: string) => ({
    path,
    method: "POST",
    encoding: "form",
    headers,
  });
  const endpoints = options.endpoints ?? {};
  return {
    ...options,
    endpoints: {
      ...endpoints,
      login: endpoints.login ?? form(oauth2.tokenPath),
      refresh: endpoints.refresh ?? form(oauth2.tokenPath),
      logout: endpoints.logout ?? (revocation === false ? false : form(revocation)),
    },
    credentials: options.credentials ?? {
      username: { label: "Username", type: "text" },
      password: { label: "Password", type: "password" },
    },
    loginBody:
      options.loginBody ??
      ((credentials: Record<string, string>) => ({
        grant_type: "password",
        ...credentials,
        ...(scope !== undefined && { scope }),
        ...client,
      })),
    refreshBody:
      options.refreshBody ??
      ((refreshToken: string | undefined) => ({
        grant_type: "refresh_token",
        refresh_token: refreshToken,
        ...client,
      })),
    logoutBody:
      options.logoutBody ??
      ((refreshToken: string | undefined) => ({
        token: refreshToken,
        token_type_hint: "refresh_token",
        ...client,
      })),
    tokens: {
      accessToken: options.tokens?.accessToken ?? { body: "access_token" },
      refreshToken: options.tokens?.refreshToken ?? { body: "refresh_token" },
    },
    refreshTokenTransport: options.refreshTokenTransport ?? { body: "refresh_token" },
  } as Options;
}

/** `application/x-www-form-urlencoded` encoding of one value. */
function formEncode(value: string): string {
  return new URLSearchParams({ v: value }).toString().slice(2);
}
