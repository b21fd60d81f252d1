"use client";

import { useCallback, useEffect, useState } from "react";

interface Item {
  id: number;
  name: string;
}

type State =
  | { status: "loading" }
  | { status: "ok"; items: Item[]; user: string; loadedAt: string }
  | { status: "error"; message: string };

/** Calls our route handler, which calls the backend with the session's token. */
export function Items() {
  const [state, setState] = useState<State>({ status: "loading" });

  const load = useCallback(async () => {
    setState({ status: "loading" });
    try {
      const response = await fetch("/api/items", { cache: "no-store" });
      // `backend.fetch` answers an ended session with redirects that fetch() follows: we receive
      // the sign-in page. Go there, coming back to this page (not to /api/items) afterwards.
      if (response.redirected && new URL(response.url).pathname === "/signin") {
        const signIn = new URL(response.url);
        signIn.searchParams.set("callbackUrl", window.location.pathname + window.location.search);
        window.location.assign(signIn.href);
        return;
      }
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      const body = (await response.json()) as { items: Item[]; user: string };
      setState({
        status: "ok",
        items: body.items,
        user: body.user,
        loadedAt: new Date().toLocaleTimeString(),
      });
    } catch (error) {
      setState({ status: "error", message: error instanceof Error ? error.message : "failed" });
    }
  }, []);

  useEffect(() => {
    void load();
  }, [load]);

  return (
    <div data-testid="items" data-status={state.status}>
      {state.status === "loading" ? <p className="muted">Loading…</p> : null}
      {state.status === "error" ? (
        <p className="alert">Could not load items: {state.message}</p>
      ) : null}
      {state.status === "ok" ? (
        <>
          <ul>
            {state.items.map((item) => (
              <li key={item.id}>{item.name}</li>
            ))}
          </ul>
          <p className="muted">
            For {state.user}, loaded at {state.loadedAt}.
          </p>
        </>
      ) : null}
      <button type="button" className="secondary" onClick={() => void load()}>
        Reload items
      </button>
    </div>
  );
}
