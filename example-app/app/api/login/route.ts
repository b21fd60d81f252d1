import { backend, signIn } from "@/auth";

// JSON login for non-form clients: POST { email, password } -> 200 { ok: true } | 4xx/5xx { error }.
export const POST = backend.loginRoute(signIn, { redirectTo: "/dashboard" });
