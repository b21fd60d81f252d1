import { backend } from "@/auth";

// Ends a session the backend no longer accepts: backend logout, cookies cleared, then
// /signin?error=SessionExpired&callbackUrl=…
export const { GET, POST } = backend.expiredRoute;
