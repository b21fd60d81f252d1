import { backend } from "./auth";

export const proxy = backend.proxy({ protect: ["/dashboard"] });

export const config = {
  matcher: ["/((?!_next/static|_next/image|favicon.ico).*)"],
};
