"use client";

import { SessionRefresher } from "authjs-backend-credentials/next/client";
import { SessionProvider } from "next-auth/react";
import type { ReactNode } from "react";

/**
 * Client session for pages that stay open without navigating: `<SessionRefresher />` refreshes
 * the session shortly before the access token expires (one tab at a time) and signs the user out
 * when the session has ended. Server navigations don't need it: the proxy refreshes those.
 */
export function Providers({ children }: { children: ReactNode }) {
  return (
    <SessionProvider>
      <SessionRefresher />
      {children}
    </SessionProvider>
  );
}
