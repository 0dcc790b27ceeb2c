import type { Register } from "@proto/messages";
import { type FormEvent, useState } from "react";
import { useSubmit } from "../../../hooks/useSubmit";

/** The gateway's rule (makefx_gateway.domain.MIN_PASSWORD_LENGTH), checked here first to save a round trip. */
const MIN_PASSWORD_LENGTH = 8;

export function SignUpForm({ onSignUp }: { onSignUp: (registration: Register) => Promise<void> }) {
  const [name, setName] = useState("");
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const { busy, error, submit } = useSubmit(onSignUp);
  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    void submit({ name: name.trim(), email, password });
  };
  return (
    <form className="auth-form" onSubmit={onSubmit} aria-label="Sign up">
      <h1>Sign up</h1>
      <label>
        Name
        <input autoComplete="name" required value={name} onChange={(e) => setName(e.target.value)} />
      </label>
      <label>
        Email
        <input type="email" autoComplete="email" required value={email} onChange={(e) => setEmail(e.target.value)} />
      </label>
      <label>
        Password
        <input
          type="password"
          autoComplete="new-password"
          required
          minLength={MIN_PASSWORD_LENGTH}
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
        {busy ? "Creating your account…" : "Sign up"}
      </button>
    </form>
  );
}
