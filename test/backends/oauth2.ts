/**
 * Provider options for an RFC 6749 authorization server: sign-in with the password grant,
 * refresh with the refresh_token grant, RFC 7009 revocation at sign-out, the profile from a
 * Bearer-protected endpoint. The server the tests run it against is test/servers/oauth2
 * (`@node-oauth/oauth2-server`); docs show this module as the configuration for such a server.
 */
import type { BackendCredentialsOptions } from "../../src/index.js";

type OAuth2Option = NonNullable<BackendCredentialsOptions["oauth2"]>;

/** Provider options to add or replace; `oauth2` fields are merged into the ones below. */
export type OAuth2Overrides = Omit<Partial<BackendCredentialsOptions>, "oauth2"> & {
  oauth2?: Partial<OAuth2Option>;
};

/** `BackendCredentials` options for the OAuth 2.0 server at `baseUrl`. */
export function oauth2Options(
  baseUrl: string,
  overrides: OAuth2Overrides = {},
): BackendCredentialsOptions {
  const { oauth2, ...rest } = overrides;
  return {
    baseUrl,
    oauth2: {
      // Password grant at sign-in, refresh_token grant on refresh (both form-encoded).
      tokenPath: "/oauth/token",
      // RFC 7009, called at sign-out with the refresh token.
      revocationPath: "/oauth/revoke",
      clientId: "app",
      clientSecret: "app-secret", // in an app: process.env.OAUTH2_CLIENT_SECRET
      // HTTP Basic; "client_secret_post" sends client_id and client_secret in the form body.
      clientAuthentication: "client_secret_basic",
      scope: "profile",
      ...oauth2,
    },
    // `{ sub, name, email }` of the signed-in user (Bearer access token).
    endpoints: { profile: "/me" },
    // The sign-in form's fields default to `username` and `password` with `oauth2`.
    ...rest,
  };
}
