import type { CredentialInput, CredentialsConfig } from "@auth/core/providers/credentials";
import type { User } from "@auth/core/types";
import { type BackendCredentialsOptions, resolveOptions } from "./model/options.js";
import { loginToBackend } from "./session/login.js";
import { createRuntime } from "./session/runtime.js";

/** The provider object returned by {@link BackendCredentials}: a plain Auth.js Credentials provider. */
export type BackendCredentialsProvider = CredentialsConfig<Record<string, CredentialInput>>;

/**
 * An Auth.js Credentials provider that signs users in against your own backend API.
 *
 * `authorize` posts the submitted fields to the login endpoint, reads the tokens from the JSON
 * body and/or `Set-Cookie` headers, reads the profile, applies the role rule, and hands everything
 * to the `jwt` callback installed by {@link withBackend}, which keeps it in the encrypted session
 * and rotates it from then on.
 *
 * Invalid options throw a `TypeError` naming the option. A failed sign-in throws Auth.js's
 * `CredentialsSignin` with a non-sensitive `code` (see `SignInErrorCode`).
 *
 * @example
 * ```ts
 * export const { handlers, auth, signIn, signOut } = NextAuth(withBackend({
 *   providers: [BackendCredentials({ baseUrl: process.env.BACKEND_URL!, endpoints: { logout: "/auth/logout" } })],
 * }))
 * ```
 */
export function BackendCredentials(options: BackendCredentialsOptions): BackendCredentialsProvider {
  const resolved = resolveOptions(options);
  const provider: BackendCredentialsProvider = {
    id: resolved.id,
    name: resolved.name,
    type: "credentials",
    credentials: resolved.credentials,
    async authorize(credentials): Promise<User> {
      const state = await loginToBackend(runtime, credentials as Record<string, unknown>);
      const { id, name, email, image, roles } = state.user;
      const user: User = {
        id,
        name: name ?? null,
        email: email ?? null,
        image: image ?? null,
        roles,
      };
      // The sign-in hand-off: Auth.js passes this very `user` object to the `jwt` callback of the
      // same request (as `params.user`), where withBackend takes the tokens out of this WeakMap
      // and stores them in the encrypted session. The object Auth.js sees carries no token.
      runtime.pendingSignIns.set(user, state);
      return user;
    },
  };
  const runtime = createRuntime(provider, resolved);
  return provider;
}
