import { jwtDecode } from "jwt-decode";
import { isRecord } from "../lib/json-path.js";
import { BackendAuthError } from "../model/errors.js";
import type { BackendTokenState, BackendUser } from "../model/types.js";
import { isTransientStatus, redirectHint } from "./backend-http.js";
import type { Runtime } from "./runtime.js";
import { accessTokenOf, callWithSession, refreshGrantOf } from "./state.js";

export async function readUser(
  runtime: Runtime,
  state: BackendTokenState,
  loginBody: unknown,
): Promise<BackendUser> {
  const { options } = runtime;
  let source: unknown = loginBody;
  if (options.profile) {
    const response = await callWithSession(runtime, options.profile, state);
    if (response.status < 200 || response.status >= 300) {
      const { status } = response;
      throw new BackendAuthError(
        isTransientStatus(status) ? "BackendUnavailable" : "BackendResponseInvalid",
        status >= 300 && status < 400
          ? redirectHint(options.profile, response.headers.get("location"), status)
          : `profile endpoint answered ${status}`,
        { status },
      );
    }
    source = response.body;
  }
  const mapped = options.mapUser
    ? options.mapUser(source)
    : defaultMapUser(
        source,
        [accessTokenOf(runtime, state), refreshGrantOf(runtime, state)?.token].filter(isString),
      );
  if (!mapped || typeof mapped.id !== "string" || mapped.id === "") {
    throw new BackendAuthError(
      "BackendResponseInvalid",
      `no user id found in the ${options.profile ? "profile" : "login"} response (set mapUser or endpoints.profile)`,
    );
  }
  return { ...mapped, roles: Array.isArray(mapped.roles) ? mapped.roles.filter(isString) : [] };
}

/** Profile fields that are never copied to the session: credentials, token metadata, containers. */
const NOT_PROFILE =
  /token|secret|passw|credential|cookie|session|expire|^(exp|iat|nbf|jti|sid|scope|aud|iss|data|user)$/i;

/** Keys already read into the profile under another name. */
const SKIPPED = ["sub", "_id", "userId", "role", "picture", "avatar"];

/**
 * Default profile mapping: the first object among `user`, `data.user`, `data` and the body itself
 * that has an `id`, `sub`, `_id` or `userId`, else the access token's claims. From a body object it
 * keeps `id`, `name`, `email`, `image`, `roles` and other plain profile fields; never a field that
 * looks like a credential or token metadata, nor any value containing one of the tokens. From token
 * claims it keeps only `sub`, `name`, `email`, `picture` and roles.
 */
function defaultMapUser(body: unknown, tokens: readonly string[]): BackendUser | undefined {
  const candidates: unknown[] = [];
  if (isRecord(body)) {
    const data = body.data;
    candidates.push(body.user, isRecord(data) ? data.user : undefined, data, body);
  }
  for (const candidate of candidates) {
    if (!isRecord(candidate)) continue;
    const id = candidate.id ?? candidate.sub ?? candidate._id ?? candidate.userId;
    if (typeof id !== "string" && typeof id !== "number") continue;
    const user = profileOf(candidate, String(id));
    for (const [key, value] of Object.entries(candidate)) {
      if (key in user || NOT_PROFILE.test(key) || SKIPPED.includes(key)) {
        continue;
      }
      const json = JSON.stringify(value) ?? "";
      if (tokens.some((token) => token.length >= 8 && json.includes(token))) continue;
      user[key] = value;
    }
    return user;
  }
  const accessToken = tokens[0];
  if (accessToken && accessToken.split(".").length === 3) {
    try {
      const claims = jwtDecode<Record<string, unknown>>(accessToken);
      if (typeof claims.sub === "string" || typeof claims.sub === "number") {
        return profileOf(claims, String(claims.sub));
      }
    } catch {
      // not a JWT: nothing to read
    }
  }
  return undefined;
}

function profileOf(source: Record<string, unknown>, id: string): BackendUser {
  const user: BackendUser = { id, roles: rolesOf(source) };
  if (typeof source.name === "string") user.name = source.name;
  if (typeof source.email === "string") user.email = source.email;
  const image = source.image ?? source.picture ?? source.avatar;
  if (typeof image === "string") user.image = image;
  return user;
}

function rolesOf(source: Record<string, unknown>): string[] {
  const { roles, role } = source;
  if (Array.isArray(roles)) return roles.filter(isString);
  if (typeof roles === "string") return [roles];
  return typeof role === "string" ? [role] : [];
}

const isString = (value: unknown): value is string => typeof value === "string";

export async function isAllowed(runtime: Runtime, user: BackendUser): Promise<boolean> {
  const { allowedRoles, authorizeUser } = runtime.options;
  if (allowedRoles && !user.roles.some((role) => allowedRoles.includes(role))) return false;
  return authorizeUser ? (await authorizeUser(user)) === true : true;
}
