import { auth, backend } from "../../auth";

/** The measured page: auth() and three backend calls with the session's credentials. */
export default async function Dashboard() {
  const session = await auth();
  const [me, items, more] = await Promise.all([
    backend.fetch("/users/me").then((response) => response.json()),
    backend.fetch("/api/items").then((response) => response.json()),
    backend.fetch("/api/items?page=2").then((response) => response.json()),
  ]);
  return (
    <main>
      <p>{session?.user?.email}</p>
      <p>{me.email}</p>
      <p>{JSON.stringify(items).length + JSON.stringify(more).length}</p>
    </main>
  );
}
