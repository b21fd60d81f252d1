"use client";

import { useSession } from "next-auth/react";
import { useEffect, useRef, useState } from "react";

/** Props of {@link SessionRefresher}. */
export interface SessionRefresherProps {
  /**
   * Refresh this many seconds before the access token expires (capped at half of the remaining
   * lifetime when the session arrived). @default 30
   */
  refreshBeforeSeconds?: number;
  /** Where to send the user when the session has ended for good. @default "/api/auth/expired" */
  expiredPath?: string;
  /** Web Locks name used so that only one tab refreshes at a time. @default "authjs-backend-refresh" */
  lockName?: string;
}

const TERMINAL = new Set(["RefreshTokenRejected", "RefreshTokenExpired", "AccessTokenExpired"]);

/**
 * Keeps the session fresh while a page stays open without navigating: shortly before the access
 * token expires it calls `useSession().update()`, which runs the `jwt` callback through Auth.js's
 * session route (a context that can save the rotated cookie).
 *
 * - One tab at a time: refreshes are serialised with the Web Locks API, so a second tab finds the
 *   already-rotated cookie and does not refresh again.
 * - Hidden tabs wait until they are visible again.
 * - A session that has ended (`RefreshTokenRejected`, …) sends the user to `expiredPath`.
 *
 * Render it once inside `<SessionProvider>`. Renders nothing.
 */
export function SessionRefresher({
  refreshBeforeSeconds = 30,
  expiredPath = "/api/auth/expired",
  lockName = "authjs-backend-refresh",
}: SessionRefresherProps): null {
  const { data: session, status, update } = useSession();
  const updateRef = useRef(update);
  updateRef.current = update;
  // Bumped after every update(): if the server did not refresh yet (its buffer is shorter than
  // ours), the unchanged expiry is rescheduled with a smaller lead instead of never again.
  const [attempts, setAttempts] = useState(0);
  const expiresAt = session?.accessTokenExpiresAt;
  const error = session?.error;

  useEffect(() => {
    if (status !== "authenticated") return;
    if (error && TERMINAL.has(error)) {
      const here = `${window.location.pathname}${window.location.search}`;
      window.location.assign(`${expiredPath}?${new URLSearchParams({ callbackUrl: here })}`);
      return;
    }
    if (typeof expiresAt !== "number") return;
    const receivedAt = Date.now() / 1000;
    const lead = Math.min(refreshBeforeSeconds, Math.max(0, (expiresAt - receivedAt) / 2));
    const delayMs = Math.max(1000, (expiresAt - lead - receivedAt) * 1000);
    let cancelled = false;

    const refresh = async () => {
      if (cancelled) return;
      const run = async () => {
        if (cancelled) return;
        await updateRef.current();
        if (!cancelled) setAttempts((count) => count + 1);
      };
      if (typeof navigator !== "undefined" && navigator.locks) {
        await navigator.locks.request(lockName, run);
      } else {
        await run();
      }
    };
    const whenVisible = () => {
      if (document.visibilityState === "visible") {
        document.removeEventListener("visibilitychange", whenVisible);
        void refresh();
      }
    };
    const timer = window.setTimeout(() => {
      if (document.visibilityState === "visible") void refresh();
      else document.addEventListener("visibilitychange", whenVisible);
    }, delayMs);
    return () => {
      cancelled = true;
      window.clearTimeout(timer);
      document.removeEventListener("visibilitychange", whenVisible);
    };
  }, [status, expiresAt, error, refreshBeforeSeconds, expiredPath, lockName, attempts]);

  return null;
}
