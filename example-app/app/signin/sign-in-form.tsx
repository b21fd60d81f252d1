"use client";

import { useActionState } from "react";
import { login } from "./actions";
import { signInErrorMessage } from "./messages";

export function SignInForm({ callbackUrl }: { callbackUrl: string }) {
  const [state, formAction, pending] = useActionState(login, undefined);
  const message = signInErrorMessage(state?.error);
  return (
    <form action={formAction} className="stack" data-testid="sign-in-form">
      {message ? (
        <p className="alert" role="alert" data-testid="sign-in-error" data-code={state?.error}>
          {message}
        </p>
      ) : null}
      <input type="hidden" name="callbackUrl" value={callbackUrl} />
      <label>
        Email
        <input
          name="email"
          type="email"
          autoComplete="username"
          defaultValue={state?.email}
          required
        />
      </label>
      <label>
        Password
        <input name="password" type="password" autoComplete="current-password" required />
      </label>
      <button type="submit" disabled={pending}>
        {pending ? "Signing in…" : "Sign in"}
      </button>
    </form>
  );
}
