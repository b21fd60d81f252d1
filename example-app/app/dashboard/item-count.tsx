"use client";

import { useActionState } from "react";
import { countItems } from "./actions";

/** Counts the backend's items through a server action. */
export function ItemCount() {
  const [result, action, pending] = useActionState(countItems, "");
  return (
    <form action={action} data-testid="item-count">
      <button type="submit" className="secondary" disabled={pending}>
        Count items (server action)
      </button>{" "}
      <output data-testid="item-count-result">{result}</output>
    </form>
  );
}
