import { jwtDecode } from "jwt-decode";
import { isRecord, readPath } from "../lib/json-path.js";
import { BackendAuthError } from "../model/errors.js";
import type { BackendTokenState, BackendUser } from "../model/types.js";
import { isTransientStatus, redirectHint } from "./backend-http.js";
import type { Runtime } from "./runtime.js";
import { accessTokenOf, callWithSession, refreshGrantOf } from "./state.js";

/** @internal Why reading the profile failed: the profile endpoint refused the session's token. */
export class ProfileRefused extends BackendAuthError {}

/**
 * @internal Reads and maps the signed-in user: from `endpoints.profile` (called with the session's
 * access token and cookies) when configured, else from the login response; the access token's
 * claims fill in what the body lacks. Throws `BackendAuthError` (`ProfileRefused` for a 401/403
 * from the profile endpoint).
 */
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
      const message =
        status >= 300 && status < 400
          ? redirectHint(options.profile, response.headers.get("location"), status)
          : `profile endpoint answered ${status}`;
      if (status === 401 || status === 403) {
        throw new ProfileRefused("BackendResponseInvalid", message, { status });
      }
      throw new BackendAuthError(
        isTransientStatus(status) ? "BackendUnavailable" : "BackendResponseInvalid",
        message,
        { status },
      );
    }
    source = response.body;
  }
  const accessToken = accessTokenOf(runtime, state);
  const claims = claimsOf(accessToken);
  const mapped = options.mapUser
    ? options.mapUser(source, { claims, loginBody: options.profile ? loginBody : undefined })
    : defaultMapUser(runtime, source, claims, [accessToken, refreshGrantOf(runtime, state)?.token]);
  if (
    !mapped ||
    (typeof mapped.id !== "string" && typeof mapped.id !== "number") ||
    mapped.id === ""
  ) {
    throw new BackendAuthError(
      "BackendResponseInvalid",
      `no user id found in the ${options.profile ? "profile" : "login"} response or the access token's claims (looked for id, sub, user_id, userId, _id; set mapUser)`,
    );
  }
  return {
    ...mapped,
    id: String(mapped.id),
    roles: Array.isArray(mapped.roles) ? mapped.roles.filter(isString) : [],
  };
}

/** The access token's claims when it is a JWT; `undefined` otherwise. */
function claimsOf(token: string | undefined): Record<string, unknown> | undefined {
  if (token?.split(".").length !== 3) return undefined;
  try {
    const claims = jwtDecode<unknown>(token);
    return isRecord(claims) ? claims : undefined;
  } catch {
    return undefined;
  }
}

/** Where a user id may be, in order. */
const ID_FIELDS = ["id", "sub", "user_id", "userId", "_id"] as const;

/**
 * Default profile mapping, minimal by default: `id`, `name`, `email`, `image` and `roles`, plus
 * the fields `profileFields` lists. The profile object is the first of `user`, `data.user`,
 * `data` and the body itself that has an id (`id`, `sub`, `user_id`, `userId`, `_id`), else the
 * access token's claims; claims also fill in what the body lacks. Listed fields never keep a
 * value that contains one of the session's tokens.
 */
function defaultMapUser(
  runtime: Runtime,
  body: unknown,
  claims: Record<string, unknown> | undefined,
  tokens: ReadonlyArray<string | undefined>,
): BackendUser | undefined {
  const { profileFields, rolesPath, namePath } = runtime.options;
  const candidates: unknown[] = [];
  if (isRecord(body)) {
    const data = body.data;
    candidates.push(body.user, isRecord(data) ? data.user : undefined, data, body);
  }
  const profile =
    candidates.find((candidate) => isRecord(candidate) && idOf(candidate) !== undefined) ??
    undefined;
  const sources = [profile, claims].filter(isRecord);
  const id = sources.map(idOf).find((value) => value !== undefined);
  if (id === undefined) return undefined;
  const first = <T>(read: (source: Record<string, unknown>) => T | undefined) =>
    sources.map(read).find((value) => value !== undefined);
  const user: BackendUser = {
    id,
    roles:
      first((source) => (rolesPath ? rolesFrom(readPath(source, rolesPath)) : rolesOf(source))) ??
      [],
  };
  const name = first((source) =>
    namePath ? stringOf(readPath(source, namePath)) : nameOf(source),
  );
  if (name !== undefined) user.name = name;
  const email = first((source) => stringOf(source.email));
  if (email !== undefined) user.email = email;
  const image = first((source) => stringOf(source.image ?? source.picture ?? source.avatar));
  if (image !== undefined) user.image = image;
  const secrets = tokens.filter((token): token is string => !!token && token.length >= 8);
  for (const field of profileFields) {
    const value = first((source) => readPath(source, field));
    if (value === undefined) continue;
    const json = JSON.stringify(value) ?? "";
    if (secrets.some((token) => json.includes(token))) continue;
    user[field.split(".").pop() ?? field] = value;
  }
  return user;
}

function idOf(source: unknown): string | undefined {
  if (!isRecord(source)) return undefined;
  for (const field of ID_FIELDS) {
    const value = source[field];
    if ((typeof value === "string" && value !== "") || typeof value === "number") {
      return String(value);
    }
  }
  return undefined;
}

const stringOf = (value: unknown) =>
  typeof value === "string" && value.trim() !== "" ? value : undefined;

/** `name`, else given/family or first/last names in the usual spellings, else the username. */
function nameOf(source: Record<string, unknown>): string | undefined {
  const name =
    stringOf(source.name) ?? stringOf(source.displayName) ?? stringOf(source.display_name);
  if (name) return name;
  for (const [given, family] of [
    ["given_name", "family_name"],
    ["givenName", "familyName"],
    ["first_name", "last_name"],
    ["firstName", "lastName"],
  ] as const) {
    const parts = [stringOf(source[given]), stringOf(source[family])].filter(isString);
    if (parts.length > 0) return parts.join(" ");
  }
  return stringOf(source.username) ?? stringOf(source.preferred_username);
}

/** Roles from `roles`, `role` or `groups`: strings, string arrays, `{ name }` objects, arrays of them. */
function rolesOf(source: Record<string, unknown>): string[] | undefined {
  for (const field of ["roles", "role", "groups"]) {
    const roles = rolesFrom(source[field]);
    if (roles !== undefined) return roles;
  }
  return undefined;
}

function rolesFrom(value: unknown): string[] | undefined {
  const one = (item: unknown) =>
    typeof item === "string" ? item : isRecord(item) ? stringOf(item.name) : undefined;
  if (Array.isArray(value)) return value.map(one).filter(isString);
  const single = one(value);
  return single === undefined ? undefined : [single];
}

const isString = (value: unknown): value is string => typeof value === "string";

export async function isAllowed(runtime: Runtime, user: BackendUser): Promise<boolean> {
  const { allowedRoles, authorizeUser } = runtime.options;
  if (allowedRoles && !user.roles.some((role) => allowedRoles.includes(role))) return false;
  return authorizeUser ? (await authorizeUser(user)) === true : true;
}
