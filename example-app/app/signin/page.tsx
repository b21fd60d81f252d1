import { PAGE_ERRORS, signInErrorMessage } from "./messages";
import { SignInForm } from "./sign-in-form";

type SearchParams = Promise<Record<string, string | string[] | undefined>>;

const first = (value: string | string[] | undefined) => (Array.isArray(value) ? value[0] : value);

export default async function SignInPage({ searchParams }: { searchParams: SearchParams }) {
  const params = await searchParams;
  const error = first(params.error);
  // `backend.login` validates callbackUrl (same-origin paths only); it is only echoed here.
  const callbackUrl = first(params.callbackUrl) ?? "/dashboard";
  const notice =
    error === "CredentialsSignin"
      ? signInErrorMessage(first(params.code))
      : error
        ? (PAGE_ERRORS[error] ?? "Please sign in again.")
        : undefined;
  return (
    <>
      <h1>Sign in</h1>
      <div className="card">
        {notice ? (
          <p className="notice" role="status" data-testid="sign-in-notice" data-error={error}>
            {notice}
          </p>
        ) : null}
        <SignInForm callbackUrl={callbackUrl} />
        <p className="muted">
          Demo accounts: admin@example.com / admin-password, user@example.com / user-password.
        </p>
      </div>
    </>
  );
}
