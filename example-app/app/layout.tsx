import { TERMINAL_SESSION_ERRORS } from "authjs-backend-credentials";
import type { Metadata } from "next";
import Link from "next/link";
import type { ReactNode } from "react";
import { auth } from "@/auth";
import { SignOutButton } from "./sign-out-button";
import "./globals.css";

export const metadata: Metadata = {
  title: "authjs-backend-credentials example",
  description: "Auth.js Credentials against your own backend, with refresh-token rotation.",
};

export default async function RootLayout({ children }: { children: ReactNode }) {
  // Read-only in a layout: auth() here never rotates tokens (the proxy already did).
  const session = await auth();
  // A session whose refresh was rejected still carries the profile: treat it as signed out.
  const signedIn = Boolean(
    session?.user && !(session.error && TERMINAL_SESSION_ERRORS.includes(session.error)),
  );
  return (
    <html lang="en">
      <body>
        <header className="site">
          <nav>
            <Link href="/">Home</Link>
            <Link href="/dashboard">Dashboard</Link>
            <Link href="/admin">Admin</Link>
            <Link href="/live">Live session</Link>
          </nav>
          {signedIn ? (
            <>
              <span className="who" data-testid="signed-in-as">
                {session?.user?.email}
              </span>
              <SignOutButton />
            </>
          ) : (
            <Link href="/signin">Sign in</Link>
          )}
        </header>
        <main>{children}</main>
      </body>
    </html>
  );
}
