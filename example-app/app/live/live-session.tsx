"use client";

import { useSession } from "next-auth/react";
import { useEffect, useRef, useState } from "react";

/** Shows the client-side session; `<SessionRefresher />` keeps it fresh while the tab stays open. */
export function LiveSession() {
  const { data: session, status } = useSession();
  const expiresAt = session?.accessTokenExpiresAt;
  const [now, setNow] = useState(() => Date.now());
  const seen = useRef(new Set<number>());
  if (typeof expiresAt === "number") seen.current.add(expiresAt);

  useEffect(() => {
    const timer = window.setInterval(() => setNow(Date.now()), 500);
    return () => window.clearInterval(timer);
  }, []);

  const secondsLeft = typeof expiresAt === "number" ? Math.round(expiresAt - now / 1000) : null;
  return (
    <>
      <h1>Live session</h1>
      <div className="card" data-testid="live" data-status={status}>
        <dl>
          <dt>Status</dt>
          <dd data-testid="live-status">{status}</dd>
          <dt>User</dt>
          <dd data-testid="live-user">{session?.user?.email ?? "—"}</dd>
          <dt>Access token expires</dt>
          <dd>
            {typeof expiresAt === "number" ? (
              <time data-testid="live-expires-at" data-epoch={expiresAt}>
                {new Date(expiresAt * 1000).toISOString()} (in {secondsLeft} s)
              </time>
            ) : (
              "—"
            )}
          </dd>
          <dt>Tokens seen</dt>
          <dd data-testid="live-token-count">{seen.current.size}</dd>
          <dt>Session error</dt>
          <dd data-testid="live-error">{session?.error ?? "none"}</dd>
        </dl>
        <p className="muted">
          Leave this tab open: the session is refreshed shortly before the access token expires,
          without reloading the page.
        </p>
      </div>
    </>
  );
}
