import { backend } from "@/auth";

// Called by the dashboard's client component: the browser never sees the backend's tokens.
export async function GET() {
  const response = await backend.fetch("/api/items");
  const body = await response.json().catch(() => ({ error: "invalid_response" }));
  return Response.json(body, {
    status: response.ok ? 200 : 502,
    headers: { "cache-control": "private, no-store" },
  });
}
