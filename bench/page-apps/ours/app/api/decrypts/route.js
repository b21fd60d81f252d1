export const dynamic = "force-dynamic";

/** The AES-CBC decrypt count of bench/count-decrypts.mjs (one per session JWT decode). */
export function GET() {
  return Response.json(globalThis[Symbol.for("authjs-backend-credentials.bench.decrypts")] ?? null);
}
