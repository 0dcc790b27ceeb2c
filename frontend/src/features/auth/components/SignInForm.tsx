import type { Login } from "@proto/messages";
import { type FormEvent, useState } from "react";
import { useSubmit } from "../../../hooks/useSubmit";

export function SignInForm({ onSignIn }: { onSignIn: (credentials: Login) => Promise<void> }) {
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const { busy, error, submit } = useSubmit(onSignIn);
  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    void submit({ email, password });
  };
  return (
    <form className="auth-form" onSubmit={onSubmit} aria-label="Log in">
      <h1>Log in</h1>
      <label>
        Email
        <input type="email" autoComplete="email" required value={email} onChange={(e) => setEmail(e.target.value)} />
      </label>
      <label>
        Password
        <input
          type="password"
          autoComplete="current-password"
          required
          value={password}
          onChange={(e) => setPassword(e.target.value)}
        />
      </label>
      {error !== null && (
        <p className="form-error" role="alert">
          {error}
        </p>
      )}
      <button type="submit" disabled={busy}>
        {busy ? "Logging in…" : "Log in"}
      </button>
    </form>
  );
}
