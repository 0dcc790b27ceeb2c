import type { SpaceOut } from "@proto/messages";
import { type FormEvent, type ReactNode, useState } from "react";
import { useSubmit } from "../../../hooks/useSubmit";

interface SpaceListProps {
  spaces: SpaceOut[];
  /** how a space's name links to its canvas (the app's router decides) */
  linkTo: (space: SpaceOut) => ReactNode;
  onRename: (spaceId: string, name: string) => Promise<void>;
  onDelete: (spaceId: string) => Promise<void>;
}

export function SpaceList({ spaces, linkTo, onRename, onDelete }: SpaceListProps) {
  if (spaces.length === 0) return <p className="empty">No spaces yet: create one to start.</p>;
  return (
    <ul className="space-list" aria-label="My spaces">
      {spaces.map((space) => (
        <SpaceRow key={space.id} space={space} link={linkTo(space)} onRename={onRename} onDelete={onDelete} />
      ))}
    </ul>
  );
}

function SpaceRow({
  space,
  link,
  onRename,
  onDelete,
}: { space: SpaceOut; link: ReactNode } & Omit<SpaceListProps, "spaces" | "linkTo">) {
  const [renaming, setRenaming] = useState(false);
  const [name, setName] = useState(space.name);
  const rename = useSubmit(async (value: string) => {
    await onRename(space.id, value);
    setRenaming(false);
  });
  const remove = useSubmit(() => onDelete(space.id));
  const isOwner = space.role === "owner";
  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    if (name.trim() !== "") void rename.submit(name.trim());
  };
  return (
    <li className="space-row" data-space-id={space.id}>
      {renaming ? (
        <form className="inline-form" onSubmit={onSubmit} aria-label={`Rename ${space.name}`}>
          <input aria-label="New name" value={name} onChange={(e) => setName(e.target.value)} autoFocus />
          <button type="submit" disabled={rename.busy}>
            Save
          </button>
          <button type="button" onClick={() => setRenaming(false)}>
            Cancel
          </button>
        </form>
      ) : (
        <>
          <span className="space-name">{link}</span>
          <span className={`role role-${space.role}`}>{space.role}</span>
          <button type="button" disabled={space.role === "viewer"} onClick={() => setRenaming(true)}>
            Rename
          </button>
          <button
            type="button"
            className="danger"
            disabled={!isOwner || remove.busy}
            title={isOwner ? undefined : "only the owner can delete a space"}
            onClick={() => {
              if (window.confirm(`Delete the space “${space.name}” and everything in it?`)) void remove.submit();
            }}
          >
            Delete
          </button>
        </>
      )}
      {(rename.error ?? remove.error) !== null && (
        <p className="form-error" role="alert">
          {rename.error ?? remove.error}
        </p>
      )}
    </li>
  );
}
