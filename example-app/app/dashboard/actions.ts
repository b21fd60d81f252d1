"use server";

import { backend } from "@/auth";

/**
 * A server action that calls the backend as the signed-in user. Like every server-side
 * `backend.fetch`, it never writes cookies: an expired session is refreshed by the proxy before
 * the action runs (or through the refresh route after a 401).
 */
export async function countItems(_previous: string, _form: FormData): Promise<string> {
  const response = await backend.fetch("/api/items");
  if (!response.ok) return `The backend answered ${response.status}.`;
  const body = (await response.json()) as { items: unknown[] };
  return `${body.items.length} items`;
}
