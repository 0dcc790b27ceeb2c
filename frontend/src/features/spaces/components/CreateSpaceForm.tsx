import { type FormEvent, useState } from "react";
import { useSubmit } from "../../../hooks/useSubmit";

export function CreateSpaceForm({ onCreate }: { onCreate: (name: string) => Promise<void> }) {
  const [name, setName] = useState("");
  const { busy, error, submit } = useSubmit(async (value: string) => {
    await onCreate(value);
    setName("");
  });
  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    if (name.trim() !== "") void submit(name.trim());
  };
  return (
    <form className="inline-form" onSubmit={onSubmit} aria-label="New space">
      <input
        aria-label="Space name"
        placeholder="New space name"
        value={name}
        onChange={(e) => setName(e.target.value)}
      />
      <button type="submit" disabled={busy || name.trim() === ""}>
        Create space
      </button>
      {error !== null && (
        <p className="form-error" role="alert">
          {error}
        </p>
      )}
    </form>
  );
}
