import { Link, useNavigate, useSearchParams } from "react-router";
import { SignInForm } from "../../features/auth/components/SignInForm";
import { SignUpForm } from "../../features/auth/components/SignUpForm";
import { useApp } from "../AppContext";

/** Where to go after signing in: back where the user was sent from, else their spaces. */
function useAfterSignIn(): () => void {
  const navigate = useNavigate();
  const [params] = useSearchParams();
  const next = params.get("next");
  return () =>
    void navigate(next !== null && next.startsWith("/") && !next.startsWith("//") ? next : "/spaces", {
      replace: true,
    });
}

export function SignInPage() {
  const signIn = useApp((state) => state.signIn);
  const done = useAfterSignIn();
  return (
    <main className="auth-page">
      <SignInForm
        onSignIn={async (credentials) => {
          await signIn(credentials);
          done();
        }}
      />
      <p>
        No account yet? <Link to="/signup">Sign up</Link>
      </p>
    </main>
  );
}

export function SignUpPage() {
  const signUp = useApp((state) => state.signUp);
  const done = useAfterSignIn();
  return (
    <main className="auth-page">
      <SignUpForm
        onSignUp={async (registration) => {
          await signUp(registration);
          done();
        }}
      />
      <p>
        Have an account? <Link to="/login">Log in</Link>
      </p>
    </main>
  );
}
