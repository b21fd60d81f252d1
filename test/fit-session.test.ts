/**
 * The session budget as a unit (src/session/budget.ts): how many bytes a session costs, what gives
 * way when it is over `sessionBudgetBytes` (new cookies, then the largest cookie or extra profile
 * field, then an oversized image; never the token cookies or the core profile), `keepCookies`, and
 * the log line for each refusal. Pure functions on a runtime built by the real `resolveOptions`.
 */
import { describe, expect, it } from "vitest";
import type { BackendCredentialsOptions } from "../src/index.js";
import type { BackendTokenState, BackendUser, StoredCookie } from "../src/model/types.js";
import { fitSession, logRefusals, sessionBytes } from "../src/session/budget.js";
import { providerRuntime } from "./harness/index.js";

/** A provider runtime with `sessionBudgetBytes: budget` (and `extra` options), logging to a recorder. */
function runtimeWithBudget(budget: number, extra: Partial<BackendCredentialsOptions> = {}) {
  const { runtime, logger } = providerRuntime(
    { sessionBudgetBytes: budget, ...extra },
    1_700_000_000,
  );
  return { runtime, logger };
}

const CORE_USER: BackendUser = {
  id: "7",
  name: "Ada",
  email: "ada@example.com",
  roles: ["admin"],
};

/** A stored session with body tokens, the core user and no backend cookies, unless `parts` say otherwise. */
function sessionState(parts: Partial<BackendTokenState> = {}): BackendTokenState {
  return {
    provider: "backend",
    accessToken: "at",
    accessTokenExpiresAt: 1_700_000_600,
    receivedAt: 1_700_000_000,
    refreshToken: "rt",
    cookies: [],
    user: CORE_USER,
    ...parts,
  };
}

/** A backend cookie at path `/` whose name plus value take `size` bytes. */
function cookieOfSize(name: string, size: number): StoredCookie {
  return { name, value: "v".repeat(size - name.length), path: "/" };
}

/** `state` without the cookies named in `names`. */
const withoutCookies = (state: BackendTokenState, ...names: string[]): BackendTokenState => ({
  ...state,
  cookies: state.cookies.filter((cookie) => !names.includes(cookie.name)),
});

/** `state` without the profile fields `fields`. */
function withoutFields(state: BackendTokenState, ...fields: string[]): BackendTokenState {
  const user: Record<string, unknown> = { ...state.user };
  for (const field of fields) delete user[field];
  return { ...state, user: user as BackendUser };
}

describe("sessionBytes", () => {
  it("counts the UTF-8 bytes of the stored JSON plus the name, email and image Auth.js copies into the token", () => {
    const state = sessionState({
      user: { id: "7", name: "Zoë", email: "z@x.io", image: "https://i/z", roles: [] },
    });
    const json = Buffer.byteLength(JSON.stringify(state));
    // "Zoë" is 4 bytes (ë takes 2), "z@x.io" 6, "https://i/z" 11.
    expect(sessionBytes(state)).toBe(json + 4 + 6 + 11);
  });

  it("a null, empty or missing name, email or image adds nothing beyond the JSON", () => {
    const state = sessionState({ user: { id: "7", name: null, email: "", roles: [] } });
    expect(sessionBytes(state)).toBe(Buffer.byteLength(JSON.stringify(state)));
  });
});

describe("fitSession", () => {
  it("a session exactly at the budget is returned as it is (the same object), with nothing refused", () => {
    const state = sessionState({
      cookies: [cookieOfSize("theme", 10)],
      user: { ...CORE_USER, department: "Research" },
    });
    const { runtime } = runtimeWithBudget(sessionBytes(state));
    const fitted = fitSession(runtime, state);
    expect(fitted).toEqual({ state, refused: [], fits: true });
    expect(fitted.state).toBe(state);
  });

  it("one byte over the budget, the largest backend cookie gives way (by name plus value bytes), wherever it is in the jar", () => {
    const state = sessionState({
      cookies: [
        { name: "s", value: "1", path: "/" },
        { name: "big", value: "x".repeat(38), path: "/" },
        { name: "a-cookie-with-a-long-name", value: "12345", path: "/" },
      ],
    });
    const { runtime } = runtimeWithBudget(sessionBytes(state) - 1);
    expect(fitSession(runtime, state)).toEqual({
      state: withoutCookies(state, "big"),
      refused: [{ what: 'backend cookie "big"', bytes: 41 }],
      fits: true,
    });
  });

  it("of equally large cookies, the one stored first gives way", () => {
    const state = sessionState({ cookies: [cookieOfSize("a", 4), cookieOfSize("b", 4)] });
    const { runtime } = runtimeWithBudget(sessionBytes(state) - 1);
    expect(fitSession(runtime, state)).toEqual({
      state: withoutCookies(state, "a"),
      refused: [{ what: 'backend cookie "a"', bytes: 4 }],
      fits: true,
    });
  });

  it("at sign-in, a backend cookie larger than every extra profile field gives way before them", () => {
    const state = sessionState({
      cookies: [cookieOfSize("c", 11)],
      user: { ...CORE_USER, note: "abc" },
    });
    const { runtime } = runtimeWithBudget(sessionBytes(state) - 1);
    expect(fitSession(runtime, state)).toEqual({
      state: withoutCookies(state, "c"),
      refused: [{ what: 'backend cookie "c"', bytes: 11 }],
      fits: true,
    });
  });

  it("at sign-in, an extra profile field larger than every backend cookie gives way first, counted by its JSON", () => {
    const state = sessionState({
      cookies: [cookieOfSize("c", 3)],
      user: { ...CORE_USER, note: "x".repeat(20) },
    });
    const { runtime } = runtimeWithBudget(sessionBytes(state) - 1);
    expect(fitSession(runtime, state)).toEqual({
      state: withoutFields(state, "note"),
      refused: [{ what: 'profile field "note"', bytes: 22 }],
      fits: true,
    });
  });

  it("a backend cookie exactly as large as the largest extra profile field gives way before it", () => {
    const state = sessionState({
      cookies: [cookieOfSize("c", 4)],
      user: { ...CORE_USER, note: "ab" },
    });
    const { runtime } = runtimeWithBudget(sessionBytes(state) - 1);
    expect(fitSession(runtime, state)).toEqual({
      state: withoutCookies(state, "c"),
      refused: [{ what: 'backend cookie "c"', bytes: 4 }],
      fits: true,
    });
  });

  it("extra profile fields give way largest first, by the size of their JSON", () => {
    const state = sessionState({
      user: { ...CORE_USER, a: "xxx", b: { deep: "y".repeat(10) }, c: "zz" },
    });
    const { runtime } = runtimeWithBudget(sessionBytes(state) - 1);
    expect(fitSession(runtime, state)).toEqual({
      state: withoutFields(state, "b"),
      refused: [{ what: 'profile field "b"', bytes: 21 }],
      fits: true,
    });
  });

  it("the core profile (id, name, email, roles, an image up to 1024 bytes) never gives way: one byte over, the session does not fit", () => {
    const state = sessionState({
      user: {
        id: "7".repeat(50),
        name: "N".repeat(60),
        email: `${"e".repeat(70)}@example.com`,
        image: "i".repeat(1024),
        roles: ["r".repeat(80)],
      },
    });
    const { runtime } = runtimeWithBudget(sessionBytes(state) - 1);
    expect(fitSession(runtime, state)).toEqual({ state, refused: [], fits: false });
  });

  it("at sign-in, an image over 1024 bytes gives way once no backend cookie or extra field is left", () => {
    const state = sessionState({
      cookies: [cookieOfSize("c", 2)],
      user: { ...CORE_USER, image: "i".repeat(1025), note: "n" },
    });
    const { runtime } = runtimeWithBudget(
      sessionBytes(withoutFields(withoutCookies(state, "c"), "note", "image")),
    );
    expect(fitSession(runtime, state)).toEqual({
      state: withoutFields(withoutCookies(state, "c"), "note", "image"),
      refused: [
        { what: 'profile field "note"', bytes: 3 },
        { what: 'backend cookie "c"', bytes: 2 },
        { what: 'profile field "image"', bytes: 1025 },
      ],
      fits: true,
    });
  });

  it("a profile field holding undefined weighs nothing: it gives way after the others, logged as 0 bytes", () => {
    const state = sessionState({ user: { ...CORE_USER, ghost: undefined, note: "ab" } });
    const { runtime } = runtimeWithBudget(sessionBytes(withoutFields(state, "note")) - 1);
    expect(fitSession(runtime, state)).toEqual({
      state: withoutFields(state, "note", "ghost"),
      refused: [
        { what: 'profile field "note"', bytes: 4 },
        { what: 'profile field "ghost"', bytes: 0 },
      ],
      fits: false,
    });
  });

  it("the cookies carrying the access and refresh tokens never give way, however large", () => {
    const state = sessionState({
      accessToken: undefined,
      refreshToken: undefined,
      cookies: [cookieOfSize("access", 100), cookieOfSize("refresh", 100), cookieOfSize("x", 5)],
    });
    const tokens = { accessToken: { cookie: "access" }, refreshToken: { cookie: "refresh" } };
    const roomy = runtimeWithBudget(sessionBytes(withoutCookies(state, "x")), { tokens });
    expect(fitSession(roomy.runtime, state)).toEqual({
      state: withoutCookies(state, "x"),
      refused: [{ what: 'backend cookie "x"', bytes: 5 }],
      fits: true,
    });
    const tight = runtimeWithBudget(10, { tokens });
    expect(fitSession(tight.runtime, state)).toEqual({
      state: withoutCookies(state, "x"),
      refused: [{ what: 'backend cookie "x"', bytes: 5 }],
      fits: false,
    });
  });

  it("keepCookies: unlisted backend cookies are not stored (not a refusal); the token cookie is kept though unlisted", () => {
    const state = sessionState({
      refreshToken: undefined,
      cookies: [cookieOfSize("keep", 8), cookieOfSize("drop", 8), cookieOfSize("refresh", 9)],
    });
    const { runtime } = runtimeWithBudget(100_000, {
      keepCookies: ["keep"],
      tokens: { refreshToken: { cookie: "refresh" } },
    });
    const fitted = fitSession(runtime, state);
    expect(fitted).toEqual({ state: withoutCookies(state, "drop"), refused: [], fits: true });
    expect(state.cookies).toHaveLength(3);
  });

  it("after a refresh, a backend cookie new since the previous session gives way before larger ones already stored", () => {
    const previous = sessionState({
      cookies: [cookieOfSize("old1", 20), cookieOfSize("old2", 30)],
    });
    const state = sessionState({
      cookies: [cookieOfSize("old1", 20), cookieOfSize("new", 5), cookieOfSize("old2", 30)],
    });
    const { runtime } = runtimeWithBudget(sessionBytes(withoutCookies(state, "new")));
    expect(fitSession(runtime, state, previous)).toEqual({
      state: withoutCookies(state, "new"),
      refused: [{ what: 'backend cookie "new"', bytes: 5 }],
      fits: true,
    });
  });

  it("after a refresh, of two new backend cookies the larger gives way first", () => {
    const previous = sessionState({ cookies: [cookieOfSize("old", 40)] });
    const state = sessionState({
      cookies: [cookieOfSize("old", 40), cookieOfSize("n1", 9), cookieOfSize("n2", 6)],
    });
    const { runtime } = runtimeWithBudget(sessionBytes(withoutCookies(state, "n1")));
    expect(fitSession(runtime, state, previous)).toEqual({
      state: withoutCookies(state, "n1"),
      refused: [{ what: 'backend cookie "n1"', bytes: 9 }],
      fits: true,
    });
  });

  it("a stored cookie without a path is the same cookie as one at path /: not new after a refresh", () => {
    const previous = sessionState({
      cookies: [cookieOfSize("a", 6), cookieOfSize("big", 30)],
    });
    const state = sessionState({
      cookies: [{ name: "a", value: "vvvvv" }, cookieOfSize("big", 30)],
    });
    const { runtime } = runtimeWithBudget(sessionBytes(withoutCookies(state, "big")));
    expect(fitSession(runtime, state, previous)).toEqual({
      state: withoutCookies(state, "big"),
      refused: [{ what: 'backend cookie "big"', bytes: 30 }],
      fits: true,
    });
  });

  it("a known cookie name under a new path counts as new after a refresh", () => {
    const previous = sessionState({ cookies: [cookieOfSize("c", 30)] });
    const scoped: StoredCookie = { name: "c", value: "12", path: "/api" };
    const state = sessionState({ cookies: [cookieOfSize("c", 30), scoped] });
    const { runtime } = runtimeWithBudget(sessionBytes(state) - 1);
    expect(fitSession(runtime, state, previous)).toEqual({
      state: { ...state, cookies: [cookieOfSize("c", 30)] },
      refused: [{ what: 'backend cookie "c"', bytes: 3 }],
      fits: true,
    });
  });

  it("after a refresh, profile fields and the image never give way: old cookies go, then the session does not fit", () => {
    const state = sessionState({
      cookies: [cookieOfSize("old", 10)],
      user: { ...CORE_USER, image: "i".repeat(2000), note: "n".repeat(200) },
    });
    const { runtime } = runtimeWithBudget(sessionBytes(withoutCookies(state, "old")) - 1);
    expect(fitSession(runtime, state, state)).toEqual({
      state: withoutCookies(state, "old"),
      refused: [{ what: 'backend cookie "old"', bytes: 10 }],
      fits: false,
    });
  });

  it('after a refresh, an old cookie gives way even when the profile has a large field named "undefined"', () => {
    const state = sessionState({
      cookies: [cookieOfSize("old", 3)],
      user: { ...CORE_USER, undefined: "u".repeat(50) },
    });
    const { runtime } = runtimeWithBudget(sessionBytes(withoutCookies(state, "old")));
    expect(fitSession(runtime, state, state)).toEqual({
      state: withoutCookies(state, "old"),
      refused: [{ what: 'backend cookie "old"', bytes: 3 }],
      fits: true,
    });
  });
});

describe("logRefusals", () => {
  it("logs one warning per refusal, naming the step, what and its size, and the budget", () => {
    const { runtime, logger } = runtimeWithBudget(4096);
    logRefusals(runtime, "refresh", [
      { what: 'backend cookie "flood"', bytes: 4000 },
      { what: 'profile field "notes"', bytes: 20 },
    ]);
    expect(logger.lines).toEqual([
      'warn refresh: backend cookie "flood" (4000 bytes) not stored: the session would exceed sessionBudgetBytes (4096)',
      'warn refresh: profile field "notes" (20 bytes) not stored: the session would exceed sessionBudgetBytes (4096)',
    ]);
  });

  it("logs nothing when nothing was refused", () => {
    const { runtime, logger } = runtimeWithBudget(4096);
    logRefusals(runtime, "login", []);
    expect(logger.lines).toEqual([]);
  });
});
