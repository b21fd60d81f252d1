"use server";

import type { LoginResult } from "authjs-backend-credentials/next";
import { backend, signIn } from "@/auth";

/** What the form shows after a failed attempt: the error code, and the email to fill in again. */
export type SignInState = LoginResult & { email: string };

/**
 * The sign-in form's server action (`useActionState`). Redirects to the form's same-origin
 * `callbackUrl` (default /dashboard) on success; returns the error code on failure.
 */
export async function login(
  _previous: SignInState | undefined,
  formData: FormData,
): Promise<SignInState> {
  const result = await backend.login(signIn, formData, { redirectTo: "/dashboard" });
  const email = formData.get("email");
  return { ...result, email: typeof email === "string" ? email : "" };
}
