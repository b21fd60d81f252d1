import { backend } from "@/auth";

// Reached after the backend answered 401 to `backend.fetch` (or the token expired where the
// session could not be saved): refreshes once, saves the cookie, redirects back.
export const { GET, POST } = backend.refreshRoute;
