import axios from "axios";
import { backend } from "@/auth";

// The same backend call as /api/items, through axios: backend.axios() attaches the session's
// credentials and redirects like backend.fetch (no session → sign-in, 401 → refresh route).
const api = backend.axios(axios.create());

export async function GET() {
  const response = await api.get("/api/items");
  return Response.json(response.data, { headers: { "cache-control": "private, no-store" } });
}
