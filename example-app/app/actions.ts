"use server";

import { signOut } from "@/auth";

/**
 * Signs out: Auth.js deletes the session cookie; the library calls the backend's logout and
 * deletes the backend cookies it mirrored to the browser.
 */
export async function signOutAction() {
  await signOut({ redirectTo: "/signin" });
}
