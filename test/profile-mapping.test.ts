/**
 * Who the user is: the built-in profile mapping (minimal by default, the usual id/name/role
 * shapes, claims), `mapUser`'s context, and the profile re-read on refresh (revalidation), all
 * through the real `Auth()` against the reference backend.
 */
import { describe, expect, it } from "vitest";
import type { BackendCredentialsOptions, MapUserContext } from "../src/index.js";
import { ADMIN, setup, signedIn, signInCode } from "./harness/index.js";

/** A fetch that rewrites the login response body, as a backend of another shape would send it. */
function loginBody(transform: (body: Record<string, unknown>) => unknown): typeof fetch {
  return async (input, init) => {
    const response = await fetch(input, init);
    if (!response.ok || !String(input).endsWith("/auth/login")) return response;
    const body = (await response.json()) as Record<string, unknown>;
    const headers = new Headers(response.headers);
    headers.delete("content-length");
    return Response.json(transform(body), { status: response.status, headers });
  };
}

/** The user a login body of `user` shape signs in as, through `/auth/session`. */
async function sessionUserFor(
  user: Record<string, unknown>,
  options: Partial<BackendCredentialsOptions> = {},
) {
  const { client } = await setup(
    { tokenPlacement: "body", expiryStyle: "expires_in" },
    { fetch: loginBody((body) => ({ ...body, user })), ...options },
  );
  const browser = client();
  const response = await browser.signIn(ADMIN);
  expect(signInCode(response)).toBeNull();
  return (await browser.session())?.user as Record<string, unknown> | undefined;
}

/** An unsigned JWT with `claims` (the mapping reads claims; it does not verify them). */
const jwt = (claims: Record<string, unknown>) =>
  [{ alg: "none", typ: "JWT" }, claims, "sig"]
    .map((part) =>
      typeof part === "string" ? part : Buffer.from(JSON.stringify(part)).toString("base64url"),
    )
    .join(".");

describe("profile mapping: minimal by default", () => {
  it("keeps id, name, email, image and roles; other profile fields reach the session only when profileFields lists them", async () => {
    const profile = {
      id: "7",
      email: "ada@example.com",
      name: "Ada",
      roles: ["admin"],
      department: "Research",
      apiKey: "ak_live_123",
      totpSeed: "JBSWY3DPEHPK3PXP",
      ssn: "078-05-1120",
      theme: { appearance: "dark" },
    };
    const minimal = await sessionUserFor(profile);
    expect(Object.keys(minimal ?? {}).sort()).toEqual(["email", "id", "image", "name", "roles"]);
    expect(JSON.stringify(minimal)).not.toMatch(/ak_live|JBSWY3|078-05|dark/);
    const listed = await sessionUserFor(profile, {
      profileFields: ["department", "theme.appearance"],
    });
    expect(listed).toMatchObject({ department: "Research", appearance: "dark" });
    expect(listed?.apiKey).toBeUndefined();
  });
});

describe("profile mapping: common shapes need no mapUser", () => {
  for (const [label, fields, name] of [
    ["first_name/last_name", { first_name: "Ada", last_name: "Lovelace" }, "Ada Lovelace"],
    ["firstName/lastName", { firstName: "Ada", lastName: "Lovelace" }, "Ada Lovelace"],
    ["given_name/family_name", { given_name: "Ada", family_name: "Lovelace" }, "Ada Lovelace"],
    ["username only", { username: "ada" }, "ada"],
  ] as const) {
    it(`name from ${label}`, async () => {
      const user = await sessionUserFor({ id: "7", email: "ada@example.com", ...fields });
      expect(user?.name).toBe(name);
    });
  }

  for (const [label, roles, expected] of [
    ["a role object { id, name }", { role: { id: "r-9f2", name: "admin" } }, ["admin"]],
    [
      "an array of role objects",
      { roles: [{ id: 1, name: "admin" }, { name: "editor" }] },
      ["admin", "editor"],
    ],
    ["a single role string", { role: "admin" }, ["admin"]],
    ["groups", { groups: ["staff", "admin"] }, ["staff", "admin"]],
  ] as const) {
    it(`roles from ${label}`, async () => {
      const user = await sessionUserFor({ id: "7", ...roles });
      expect(user?.roles).toEqual(expected);
    });
  }

  it("rolesPath and namePath read other places", async () => {
    const user = await sessionUserFor(
      { id: "7", access: { groups: [{ name: "admin" }] }, profile: { display: "Ada L." } },
      { rolesPath: "access.groups", namePath: "profile.display" },
    );
    expect(user).toMatchObject({ roles: ["admin"], name: "Ada L." });
  });

  for (const claim of ["user_id", "id"] as const) {
    it(`a JWT access token with the user id in ${claim} (no sub) signs in, the claims filling in the profile`, async () => {
      const { client } = await setup(
        { tokenPlacement: "body", expiryStyle: "expires_in" },
        {
          fetch: loginBody(({ user: _user, ...body }) => ({
            ...body,
            accessToken: jwt({ [claim]: 42, email: "claims@example.com", roles: ["admin"] }),
          })),
        },
      );
      const browser = client();
      expect(signInCode(await browser.signIn(ADMIN))).toBeNull();
      expect((await browser.session())?.user).toMatchObject({
        id: "42",
        email: "claims@example.com",
        roles: ["admin"],
      });
    });
  }
});

describe("mapUser's context", () => {
  it("receives the access token's claims and, with a profile endpoint, the login body", async () => {
    const seen: MapUserContext[] = [];
    const { client } = await setup(
      {},
      {
        endpoints: { logout: "/auth/logout", profile: "/users/me" },
        mapUser: (profile, context) => {
          seen.push(context);
          const { id, email } = profile as { id: string; email: string };
          return { id, email, roles: [String(context.claims?.sub)] };
        },
      },
    );
    const browser = client();
    await browser.signIn(ADMIN);
    expect(seen[0]?.claims).toMatchObject({ sub: "1", email: ADMIN.email });
    expect(seen[0]?.loginBody).toMatchObject({ accessToken: expect.any(String) });
    expect((await browser.session())?.user?.roles).toEqual(["1"]);
  });
});

describe("revalidation: the profile re-read on refresh", () => {
  const withProfile = (extra: Partial<BackendCredentialsOptions> = {}) => ({
    endpoints: { logout: "/auth/logout", profile: "/users/me" },
    profileRevalidationSeconds: 0,
    ...extra,
  });

  it("a role changed at the backend reaches the session at the next refresh", async () => {
    const { backend, browser, clock } = await signedIn({}, withProfile());
    expect((await browser.session())?.user?.roles).toEqual(["admin"]);
    const admin = backend.options.users.find((user) => user.id === "1");
    if (admin) admin.roles = ["user"];
    const meBefore = backend.stats.me;
    clock.advance(590);
    const session = await browser.session();
    expect(session?.error).toBeUndefined();
    expect(session?.user?.roles).toEqual(["user"]);
    expect(backend.stats.me - meBefore).toBe(1);
  });

  it("a user removed from allowedRoles: the session ends with AccessRevoked and the backend session is logged out", async () => {
    const { backend, browser, clock } = await signedIn(
      {},
      withProfile({ allowedRoles: ["admin"] }),
    );
    const admin = backend.options.users.find((user) => user.id === "1");
    if (admin) admin.roles = ["user"];
    clock.advance(590);
    expect((await browser.session())?.error).toBe("AccessRevoked");
    expect(backend.stats.logout).toBe(1);
    clock.advance(590);
    await browser.session();
    expect(backend.stats.refresh).toBe(1); // ended: never refreshed again
  });

  it("a deactivated user (the profile endpoint answers 401 to the fresh token): AccessRevoked", async () => {
    const { backend, browser, clock } = await signedIn({}, withProfile());
    backend.injectFault("me", { status: 401, body: { error: "inactive" } });
    clock.advance(590);
    expect((await browser.session())?.error).toBe("AccessRevoked");
    expect(backend.stats.logout).toBe(1);
  });

  it("the profile endpoint down during revalidation: still signed in with the old profile, re-read at the next refresh", async () => {
    const { backend, browser, clock, logger } = await signedIn({}, withProfile());
    backend.injectFault("me", { status: 503, body: { error: "down" } });
    clock.advance(590);
    const session = await browser.session();
    expect(session?.error).toBeUndefined();
    expect(session?.user?.roles).toEqual(["admin"]);
    expect(
      logger.lines.some((line) => /profile re-read failed .* the old profile is kept/.test(line)),
    ).toBe(true);
    const meBefore = backend.stats.me;
    clock.advance(590);
    await browser.session();
    expect(backend.stats.me - meBefore).toBe(1);
  });

  it("at most every profileRevalidationSeconds: refreshes in between do not re-read", async () => {
    const { backend, browser, clock } = await signedIn(
      {},
      withProfile({ profileRevalidationSeconds: 1000 }),
    );
    const meBefore = backend.stats.me;
    clock.advance(590);
    await browser.session();
    expect(backend.stats.me - meBefore).toBe(0);
    clock.advance(590);
    await browser.session();
    expect(backend.stats.refreshSucceeded).toBe(2);
    expect(backend.stats.me - meBefore).toBe(1);
  });
});
