import Link from "next/link";

export default function Home() {
  return (
    <>
      <h1>authjs-backend-credentials example</h1>
      <div className="card">
        <p>
          This Next.js app signs users in against its own backend API (the reference backend in{" "}
          <code>backend/</code>) with Auth.js, keeps the backend&apos;s tokens in the encrypted
          session cookie, and rotates the refresh token before the access token expires.
        </p>
        <ul>
          <li>
            <Link href="/signin">Sign in</Link> (admin@example.com / admin-password or
            user@example.com / user-password)
          </li>
          <li>
            <Link href="/dashboard">Dashboard</Link> (signed-in users): your profile from{" "}
            <code>/users/me</code> and items from the backend
          </li>
          <li>
            <Link href="/admin">Admin</Link> (admins only)
          </li>
          <li>
            <Link href="/live">Live session</Link>: a client-only page that keeps the session fresh
            without navigating
          </li>
        </ul>
      </div>
    </>
  );
}
