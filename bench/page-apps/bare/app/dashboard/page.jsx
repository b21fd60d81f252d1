import { auth } from "../../auth";

const BACKEND_URL = process.env.BACKEND_URL;

/** The measured page: auth() and three backend calls with the session's access token. */
export default async function Dashboard() {
  const session = await auth();
  const get = (path) =>
    fetch(`${BACKEND_URL}${path}`, {
      headers: { authorization: `Bearer ${session?.accessToken}` },
      cache: "no-store",
    }).then((response) => response.json());
  const [me, items, more] = await Promise.all([
    get("/users/me"),
    get("/api/items"),
    get("/api/items?page=2"),
  ]);
  return (
    <main>
      <p>{session?.user?.email}</p>
      <p>{me.email}</p>
      <p>{JSON.stringify(items).length + JSON.stringify(more).length}</p>
    </main>
  );
}
