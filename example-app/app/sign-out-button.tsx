import { signOutAction } from "./actions";

export function SignOutButton() {
  return (
    <form action={signOutAction}>
      <button type="submit" className="secondary" data-testid="sign-out">
        Sign out
      </button>
    </form>
  );
}
