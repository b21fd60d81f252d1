import { describe, expect, it } from "vitest";
import { BackendCredentials, type BackendCredentialsOptions, withBackend } from "../src/index.js";

const base = { baseUrl: "http://127.0.0.1:4000" };

describe("misuse throws a TypeError naming the option", () => {
  const cases: Array<[string, Partial<BackendCredentialsOptions> | Record<string, unknown>]> = [
    ["baseUrl", { baseUrl: undefined }],
    ["baseUrl", { baseUrl: "not a url" }],
    ["baseUrl", { baseUrl: "ftp://example.com" }],
    ["endpoints.login", { endpoints: { login: { path: "" } } }],
    ["endpoints.refresh", { endpoints: { refresh: "https://elsewhere.example/refresh" } }],
    ["endpoints.logout.method", { endpoints: { logout: { path: "/x", method: "PO ST" } } }],
    ["endpoints.profile.headers", { endpoints: { profile: { path: "/me", headers: { a: 1 } } } }],
    ["tokens.accessToken", { tokens: { accessToken: {} } }],
    ["tokens.refreshToken.cookie", { tokens: { refreshToken: { cookie: "bad;name" } } }],
    ["tokens.accessToken.body", { tokens: { accessToken: { body: [""] } } }],
    ["expiry.accessToken", { expiry: { accessToken: { lifetimeSeconds: 0 } } }],
    ["refreshTokenTransport", { refreshTokenTransport: "header" }],
    ["refreshBufferSeconds", { refreshBufferSeconds: -1 }],
    ["gracePeriodSeconds", { gracePeriodSeconds: Number.NaN }],
    ["timeoutMs", { timeoutMs: 0 }],
    ["allowedRoles", { allowedRoles: "admin" }],
    ["mapUser", { mapUser: "user" }],
    ["credentials", { credentials: {} }],
    ["id", { id: "" }],
  ];
  for (const [option, options] of cases) {
    it(`${option}: ${JSON.stringify(options)}`, () => {
      expect(() =>
        BackendCredentials({ ...base, ...options } as BackendCredentialsOptions),
      ).toThrow(TypeError);
      expect(() =>
        BackendCredentials({ ...base, ...options } as BackendCredentialsOptions),
      ).toThrow(new RegExp(`option ${option.replace(/\./g, "\\.")}\\b`));
    });
  }

  it("withBackend without a BackendCredentials provider", () => {
    expect(() => withBackend({ providers: [] })).toThrow(
      new TypeError("withBackend: config.providers contains no BackendCredentials provider"),
    );
  });

  it("sensible defaults need only baseUrl", () => {
    const provider = BackendCredentials(base);
    expect(provider).toMatchObject({ id: "backend", name: "Backend", type: "credentials" });
    expect(Object.keys(provider.credentials)).toEqual(["email", "password"]);
  });
});
