import type { MediaKind, VariantRow } from "@proto/messages";
import { type FormEvent, useState } from "react";
import { useSubmit } from "../../../hooks/useSubmit";
import type { AssetActions, Permissions } from "../actions";
import { VariantMedia } from "./VariantMedia";

interface VariantStripProps {
  spaceId: string;
  kind: MediaKind;
  assetType: string;
  variants: readonly VariantRow[];
  activeVariantId: string | null;
  previewedId: string | null;
  permissions: Permissions;
  actions: AssetActions;
  onPreview: (variantId: string) => void;
  /** how far a running variant's job is, when known */
  progressOf: (variantId: string) => number | null;
  cdnBaseUrl: string | null;
}

export function VariantStrip({ variants, ...rest }: VariantStripProps) {
  if (variants.length === 0) return <p className="empty">No variants yet.</p>;
  return (
    <ol className="variant-strip" aria-label="Variants">
      {variants.map((variant) => (
        <VariantTile key={variant.id} variant={variant} {...rest} />
      ))}
    </ol>
  );
}

function VariantTile({
  spaceId,
  kind,
  assetType,
  variant,
  activeVariantId,
  previewedId,
  permissions,
  actions,
  onPreview,
  progressOf,
  cdnBaseUrl,
}: Omit<VariantStripProps, "variants"> & { variant: VariantRow }) {
  const [forking, setForking] = useState(false);
  const action = useSubmit((run: () => Promise<void>) => run());
  const isActive = variant.id === activeVariantId;
  const starred = variant.starred === 1;
  const completed = variant.status === "completed";
  return (
    <li
      className={`variant-tile${isActive ? " active" : ""}${variant.id === previewedId ? " previewed" : ""}`}
      data-testid="variant"
      data-variant-id={variant.id}
      data-status={variant.status ?? "pending"}
    >
      <button
        type="button"
        className="variant-preview"
        onClick={() => onPreview(variant.id)}
        aria-label="Show this variant"
      >
        <VariantMedia
          spaceId={spaceId}
          variant={variant}
          kind={kind}
          progress={progressOf(variant.id)}
          cdnBaseUrl={cdnBaseUrl}
        />
      </button>
      <div className="variant-badges">
        <span className={`status status-${variant.status ?? "pending"}`}>{variant.status ?? "pending"}</span>
        {isActive && <span className="badge">active</span>}
      </div>
      <div className="variant-actions">
        {variant.status === "failed" && permissions.canEdit && (
          <button
            type="button"
            disabled={action.busy}
            onClick={() => void action.submit(() => actions.retry(variant.id))}
          >
            Retry
          </button>
        )}
        <button
          type="button"
          aria-pressed={starred}
          aria-label={starred ? "Unstar" : "Star"}
          disabled={!permissions.canEdit || action.busy}
          onClick={() => void action.submit(() => actions.star(variant.id, !starred))}
        >
          {starred ? "★" : "☆"}
        </button>
        <button
          type="button"
          disabled={!permissions.canEdit || isActive || !completed || action.busy}
          onClick={() => void action.submit(() => actions.setActive(variant.id))}
        >
          Set active
        </button>
        <button type="button" disabled={!permissions.canEdit || !completed} onClick={() => setForking(!forking)}>
          Fork
        </button>
        <button
          type="button"
          className="danger"
          disabled={!permissions.isOwner || action.busy}
          title={permissions.isOwner ? undefined : "only the owner can delete a variant"}
          onClick={() => {
            if (window.confirm("Delete this variant?")) void action.submit(() => actions.deleteVariant(variant.id));
          }}
        >
          Delete
        </button>
      </div>
      {forking && (
        <ForkForm
          assetType={assetType}
          onFork={async (name, type) => {
            await actions.fork(variant.id, name, type);
            setForking(false);
          }}
        />
      )}
      {action.error !== null && (
        <p className="form-error" role="alert">
          {action.error}
        </p>
      )}
    </li>
  );
}

function ForkForm({
  assetType,
  onFork,
}: {
  assetType: string;
  onFork: (name: string, assetType: string) => Promise<void>;
}) {
  const [name, setName] = useState("");
  const { busy, error, submit } = useSubmit(onFork);
  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    if (name.trim() !== "") void submit(name.trim(), assetType);
  };
  return (
    <form className="inline-form" onSubmit={onSubmit} aria-label="Fork into a new asset">
      <input
        aria-label="Name of the new asset"
        placeholder="new asset name"
        value={name}
        onChange={(e) => setName(e.target.value)}
        autoFocus
      />
      <button type="submit" disabled={busy || name.trim() === ""}>
        Fork
      </button>
      {error !== null && (
        <span className="form-error" role="alert">
          {error}
        </span>
      )}
    </form>
  );
}
