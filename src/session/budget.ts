import type { BackendTokenState, BackendUser, StoredCookie } from "../model/types.js";
import type { Runtime } from "./runtime.js";

/**
 * The session budget: what we store in the Auth.js session cookie may not grow without bound.
 * A backend that sets many or large cookies, adds a cookie on every refresh, or sends a huge
 * profile field would otherwise grow the cookie until every request to the app is refused with
 * 431 (the user could not even sign out). What does not fit is not stored, and the log says so.
 */

/** Profile fields every session keeps; other fields give way first. */
const CORE_PROFILE = new Set(["id", "name", "email", "image", "roles"]);

const encoder = new TextEncoder();
const bytes = (text: string) => encoder.encode(text).byteLength;

/**
 * @internal Bytes the session costs: the JSON of our state, plus the profile fields Auth.js copies
 * into the token itself (`name`, `email`, `picture`).
 */
export function sessionBytes(state: BackendTokenState): number {
  const { name, email, image } = state.user;
  return (
    bytes(JSON.stringify(state)) +
    [name, email, image].reduce((sum, value) => sum + (value ? bytes(value) : 0), 0)
  );
}

/** What {@link fitSession} left out, for the log (names and sizes only, never values). */
export interface Refusal {
  what: string;
  bytes: number;
}

/** @internal The result of fitting a session into the budget. */
export interface FittedSession {
  state: BackendTokenState;
  /** What was not stored. */
  refused: Refusal[];
  /** `false` when even the tokens, token cookies and core profile exceed the budget. */
  fits: boolean;
}

/**
 * @internal Applies `keepCookies` and the byte budget (`sessionBudgetBytes`) to a session about to
 * be stored. Backend cookies not listed in `keepCookies` are not stored. While the session is over
 * budget, the largest item that may give way is left out: backend cookies new since `previous`
 * first (growth is refused before anything already stored), then other backend cookies and
 * profile fields beyond `id`, `name`, `email`, `image` and `roles`, then an oversized `image`.
 * The cookies carrying the access or refresh token are never left out.
 */
export function fitSession(
  runtime: Runtime,
  state: BackendTokenState,
  previous?: BackendTokenState,
): FittedSession {
  // After sign-in the profile is fixed (a refresh carries none): only cookies may give way.
  const profileMayGiveWay = previous === undefined;
  const { keepCookies, sessionBudgetBytes, accessToken, refreshToken } = runtime.options;
  const essential = new Set(
    [accessToken.cookie, refreshToken.cookie].filter((n): n is string => !!n),
  );
  let cookies = state.cookies.filter(
    (cookie) => !keepCookies || keepCookies.includes(cookie.name) || essential.has(cookie.name),
  );
  let user: BackendUser = state.user;
  const refused: Refusal[] = [];
  const current = () => ({ ...state, cookies, user });
  const before = new Set((previous?.cookies ?? state.cookies).map(cookieKey));
  while (sessionBytes(current()) > sessionBudgetBytes) {
    // New cookies first (only after a refresh, when no profile field may give way), then the
    // largest cookie or profile field.
    const cookie = largest(
      cookies.filter((c) => !essential.has(c.name)),
      cookieBytes,
      (c) => !before.has(cookieKey(c)),
    );
    const profile = user;
    const fieldSize = (key: string) => fieldBytes(profile, key);
    const field = largest(
      Object.keys(user).filter((key) => profileMayGiveWay && !CORE_PROFILE.has(key)),
      fieldSize,
    );
    const imageBytes = bytes(user.image ?? "");
    if (cookie && (field === undefined || cookieBytes(cookie) >= fieldSize(field))) {
      cookies = cookies.filter((c) => c !== cookie);
      refused.push({ what: `backend cookie "${cookie.name}"`, bytes: cookieBytes(cookie) });
    } else if (field !== undefined) {
      const { [field]: _dropped, ...rest } = user;
      user = rest as BackendUser;
      refused.push({ what: `profile field "${field}"`, bytes: fieldSize(field) });
    } else if (profileMayGiveWay && imageBytes > 1024) {
      refused.push({ what: 'profile field "image"', bytes: imageBytes });
      const { image: _image, ...rest } = user;
      user = rest as BackendUser;
    } else {
      return { state: current(), refused, fits: false };
    }
  }
  const fitted =
    refused.length === 0 && cookies.length === state.cookies.length ? state : current();
  return { state: fitted, refused, fits: true };
}

/** Logs what {@link fitSession} left out, once per session write that refused something. */
export function logRefusals(runtime: Runtime, step: string, refused: readonly Refusal[]): void {
  for (const { what, bytes: size } of refused) {
    runtime.options.logger.warn(
      `${step}: ${what} (${size} bytes) not stored: the session would exceed sessionBudgetBytes (${runtime.options.sessionBudgetBytes})`,
    );
  }
}

const cookieBytes = (cookie: StoredCookie) => bytes(cookie.name) + bytes(cookie.value);
const fieldBytes = (user: BackendUser, key: string) => bytes(JSON.stringify(user[key]) ?? "");
const cookieKey = (cookie: StoredCookie) => `${cookie.name}\0${cookie.path ?? "/"}`;

/** The largest of `items` by `size`, preferring those `first` accepts. */
function largest<T>(
  items: readonly T[],
  size: (item: T) => number,
  first: (item: T) => boolean = () => false,
): T | undefined {
  let best: T | undefined;
  for (const item of items) {
    if (
      best === undefined ||
      (first(item) && !first(best)) ||
      (first(item) === first(best) && size(item) > size(best))
    ) {
      best = item;
    }
  }
  return best;
}
