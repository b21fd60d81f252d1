import type { Metadata } from "next";
import { auth, backend } from "@/auth";
import { departmentOf } from "@/user-fields";
import { ItemCount } from "./item-count";
import { Items } from "./items";

export const metadata: Metadata = { title: "Dashboard" };

interface Profile {
  id: string;
  email: string;
  name: string;
  roles: string[];
  department?: string;
}

export default async function DashboardPage() {
  // The proxy has already refreshed the session if it was due and redirected signed-out users.
  const session = await auth();
  // Bearer token + backend cookies attached server-side. On a 401 or an ended session this
  // redirects (through /api/auth/refresh or /api/auth/expired); it never throws for those.
  const response = await backend.fetch("/users/me");
  const profile = response.ok ? ((await response.json()) as Profile) : null;
  const expiresAt = session?.accessTokenExpiresAt;
  return (
    <>
      <h1>Dashboard</h1>
      <section className="card">
        <h2>Signed in as</h2>
        <dl data-testid="session-user">
          <dt>Name</dt>
          <dd data-testid="user-name">{session?.user?.name}</dd>
          <dt>Email</dt>
          <dd data-testid="user-email">{session?.user?.email}</dd>
          <dt>Roles</dt>
          <dd data-testid="user-roles">{session?.user?.roles?.join(", ")}</dd>
          <dt>Department</dt>
          <dd data-testid="user-department">{departmentOf(session)}</dd>
          <dt>Access token expires</dt>
          <dd>
            {expiresAt ? (
              <time
                data-testid="access-expires-at"
                data-epoch={expiresAt}
                dateTime={new Date(expiresAt * 1000).toISOString()}
              >
                {new Date(expiresAt * 1000).toISOString()}
              </time>
            ) : (
              "unknown"
            )}
          </dd>
        </dl>
      </section>
      <section className="card">
        <h2>
          <code>GET /users/me</code> (server component, <code>backend.fetch</code>)
        </h2>
        {profile ? (
          <pre data-testid="profile">{JSON.stringify(profile, null, 2)}</pre>
        ) : (
          <p className="alert" data-testid="profile-error">
            The backend answered {response.status}.
          </p>
        )}
      </section>
      <section className="card">
        <h2>
          <code>GET /api/items</code> (client component → route handler)
        </h2>
        <Items />
      </section>
      <section className="card">
        <h2>
          <code>GET /api/items</code> (server action, <code>backend.fetch</code>)
        </h2>
        <ItemCount />
      </section>
    </>
  );
}
