/**
 * Typed extra profile fields: `profileFields: ["department"]` (auth.ts) keeps `department` in the
 * session; this declaration types it on `session.user` and `BackendUser`, end to end. `next build`
 * type-checks it (the assertions below fail the build if the typing breaks).
 */
import type { BackendUser } from "authjs-backend-credentials";
import type { Session } from "next-auth";

declare module "authjs-backend-credentials" {
  interface BackendUserExtras {
    /** From the backend's profile (`/users/me`). */
    department?: string;
  }
}

/** The department of a session's user, typed (no cast). */
export function departmentOf(session: Session | null): string | undefined {
  return session?.user?.department;
}

/** `BackendUser` carries it too (for `mapUser` and `authorizeUser`). */
export function departmentOfUser(user: BackendUser): string | undefined {
  return user.department;
}

// Type checks, run by `next build`: the extra field is a string, not `unknown` or `any`.
type Expect<T extends true> = T;
type IsString<T> = [T] extends [string | undefined]
  ? [string | undefined] extends [T]
    ? true
    : false
  : false;
export type DepartmentIsTyped = Expect<IsString<NonNullable<Session["user"]>["department"]>>;
