import type { Metadata } from "next";
import Link from "next/link";
import { auth } from "@/auth";

export const metadata: Metadata = { title: "Admin" };

export default async function AdminPage() {
  const session = await auth();
  const roles = session?.user?.roles ?? [];
  if (!roles.includes("admin")) {
    return (
      <>
        <h1>Forbidden</h1>
        <div className="card" data-testid="forbidden">
          <p className="alert" role="alert">
            You are signed in as {session?.user?.email}, but this page needs the <code>admin</code>{" "}
            role.
          </p>
          <p>
            <Link href="/dashboard">Back to the dashboard</Link>
          </p>
        </div>
      </>
    );
  }
  return (
    <>
      <h1>Admin</h1>
      <div className="card" data-testid="admin-area">
        <p>
          Welcome, {session?.user?.name}. Only users with the <code>admin</code> role see this page.
        </p>
      </div>
    </>
  );
}
