import type { Role } from "@proto/messages";
import { type FormEvent, useState } from "react";
import { useSubmit } from "../../../hooks/useSubmit";
import { ROLES, ROLE_HELP } from "../roles";

export function AddMemberForm({
  onAdd,
  disabled,
}: {
  onAdd: (email: string, role: Role) => Promise<void>;
  disabled: boolean;
}) {
  const [email, setEmail] = useState("");
  const [role, setRole] = useState<Role>("editor");
  const { busy, error, submit } = useSubmit(async (address: string, chosen: Role) => {
    await onAdd(address, chosen);
    setEmail("");
  });
  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    void submit(email.trim(), role);
  };
  return (
    <form className="inline-form" onSubmit={onSubmit} aria-label="Add a member">
      <input
        type="email"
        aria-label="Member email"
        placeholder="email of an existing account"
        required
        disabled={disabled}
        value={email}
        onChange={(e) => setEmail(e.target.value)}
      />
      <select
        aria-label="Member role"
        value={role}
        disabled={disabled}
        onChange={(e) => setRole(e.target.value as Role)}
      >
        {ROLES.map((r) => (
          <option key={r} value={r} title={ROLE_HELP[r]}>
            {r}
          </option>
        ))}
      </select>
      <button type="submit" disabled={disabled || busy}>
        Add member
      </button>
      {error !== null && (
        <p className="form-error" role="alert">
          {error}
        </p>
      )}
    </form>
  );
}
