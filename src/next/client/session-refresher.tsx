"use client";

import { useSession } from "next-auth/react";
import { useEffect, useRef, useState } from "react";
import { TERMINAL_SESSION_ERRORS } from "../../model/types.js";
import { refreshDelayMs, type Stall, stalledAttempts } from "./schedule.js";

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

/**
 * Keeps the session fresh while a page stays open without navigating: shortly before the access
 * token expires it calls `useSession().update()`, which runs the `jwt` callback through Auth.js's
 * session route (a context that can save the rotated cookie).
 *
 * - One tab at a time: refreshes are serialised with the Web Locks API, so a second tab finds the
 *   already-rotated cookie and does not refresh again.
 * - Hidden tabs wait until they are visible again.
 * - Backs off while refreshes do not happen (backend unavailable, `session.error` is
 *   `RefreshUnavailable`): consecutive `update()` calls that leave `accessTokenExpiresAt` unchanged
 *   are spaced 2, 4, 8 … up to 60 seconds apart (never past a still-valid token's expiry); a new
 *   expiry resets the backoff.
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
  // Set after every update(): if the server did not refresh (its buffer is shorter than ours, or
  // the backend is unavailable), the unchanged expiry is rescheduled, backing off, instead of never
  // again. It only counts while the expiry stays the same: a new expiry starts over at 0.
  const [stall, setStall] = useState<Stall>({ count: 0 });
  const expiresAt = session?.accessTokenExpiresAt;
  const error = session?.error;
  const stalled = stalledAttempts(stall, expiresAt);

  useEffect(() => {
    if (status !== "authenticated") return;
    if (error && TERMINAL_SESSION_ERRORS.includes(error)) {
      const here = `${window.location.pathname}${window.location.search}`;
      window.location.assign(`${expiredPath}?${new URLSearchParams({ callbackUrl: here })}`);
      return;
    }
    if (typeof expiresAt !== "number") return;
    const delayMs = refreshDelayMs(expiresAt, Date.now() / 1000, refreshBeforeSeconds, stalled);
    let cancelled = false;

    const refresh = async () => {
      if (cancelled) return;
      const run = async () => {
        if (cancelled) return;
        await updateRef.current();
        // Recorded even when this effect was cleaned up meanwhile: update() itself switches the
        // status to "loading", which re-runs the effect; skipping this would lose the backoff.
        setStall({ expiresAt, count: stalled + 1 });
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
  }, [status, expiresAt, error, refreshBeforeSeconds, expiredPath, lockName, stalled]);

  return null;
}
