import { Auth, type AuthConfig } from "@auth/core";
import type { JWT } from "@auth/core/jwt";
import type { Session } from "@auth/core/types";
import { ORIGIN, SESSION_COOKIE } from "./constants.js";
import { decodeSessionCookie } from "./session-cookie.js";

/** A minimal browser: keeps cookies between requests to the real `Auth()` handler. */
export class AuthClient {
  readonly cookies = new Map<string, string>();

  constructor(
    readonly config: AuthConfig,
    readonly basePath = "/auth",
  ) {}

  /** Sends a request to `Auth()`, storing the response cookies. */
  async request(path: string, init: RequestInit = {}): Promise<Response> {
    const headers = new Headers(init.headers);
    const cookie = this.cookieHeader();
    if (cookie) headers.set("cookie", cookie);
    const response = await Auth(
      new Request(`${ORIGIN}${this.basePath}${path}`, { ...init, headers }),
      this.config,
    );
    this.store(response);
    return response;
  }

  cookieHeader(): string {
    return [...this.cookies].map(([name, value]) => `${name}=${value}`).join("; ");
  }

  store(response: Response): void {
    for (const header of response.headers.getSetCookie()) {
      const [pair = "", ...attributes] = header.split(";");
      const eq = pair.indexOf("=");
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      const expired = attributes.some((attribute) => {
        const [key = "", val = ""] = attribute.trim().split("=");
        if (key.toLowerCase() === "max-age") return Number(val) <= 0;
        if (key.toLowerCase() === "expires") return Date.parse(val) <= Date.now();
        return false;
      });
      if (expired || value === "") this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
  }

  /** Signs in through `POST /auth/callback/credentials` with a CSRF token, like a browser form. */
  async signIn(fields: Record<string, string>, providerId = "backend"): Promise<Response> {
    const csrf = await this.request("/csrf");
    const { csrfToken } = (await csrf.json()) as { csrfToken: string };
    return this.request(`/callback/${providerId}`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ ...fields, csrfToken, callbackUrl: `${ORIGIN}/dashboard` }),
    });
  }

  /** `GET /auth/session` as JSON (`null` when signed out). */
  async session(): Promise<(Session & Record<string, unknown>) | null> {
    const response = await this.request("/session");
    return (await response.json()) as (Session & Record<string, unknown>) | null;
  }

  async signOut(): Promise<Response> {
    const csrf = await this.request("/csrf");
    const { csrfToken } = (await csrf.json()) as { csrfToken: string };
    return this.request("/signout", {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ csrfToken }),
    });
  }

  /** Decrypts the current session cookie (what the server sees), or `null`. */
  async token(): Promise<JWT | null> {
    return decodeSessionCookie(this.cookies.get(SESSION_COOKIE));
  }

  /** An independent copy (another tab or a replayed old cookie). */
  clone(): AuthClient {
    const copy = new AuthClient(this.config, this.basePath);
    for (const [name, value] of this.cookies) copy.cookies.set(name, value);
    return copy;
  }
}
