import type { AssetRow, VariantRow } from "@proto/messages";
import { type FormEvent, type ReactNode, useState } from "react";
import { useSubmit } from "../../../hooks/useSubmit";
import type { AssetActions, Permissions } from "../actions";
import type { AssetLineage } from "../lineage";
import { LineageGraph } from "./LineageGraph";
import { VariantMedia } from "./VariantMedia";
import { VariantStrip } from "./VariantStrip";

interface AssetDetailsProps {
  spaceId: string;
  asset: AssetRow;
  tags: string[];
  variants: readonly VariantRow[];
  lineage: AssetLineage;
  previewedId: string | null;
  permissions: Permissions;
  actions: AssetActions;
  linkTo: (assetId: string, label: string) => ReactNode;
  onPreview: (variantId: string) => void;
  onClose: () => void;
  progressOf: (variantId: string) => number | null;
  cdnBaseUrl: string | null;
}

export function AssetDetails(props: AssetDetailsProps) {
  const { spaceId, asset, variants, permissions, actions } = props;
  const kind = asset.media_kind ?? "image";
  const previewed =
    variants.find((v) => v.id === props.previewedId) ??
    variants.find((v) => v.id === asset.active_variant_id) ??
    variants[0];
  const remove = useSubmit(() => actions.deleteAsset());
  return (
    <aside
      className="asset-details"
      aria-label={`Details of ${asset.name}`}
      data-testid="asset-details"
      data-asset-id={asset.id}
    >
      <header>
        <AssetName name={asset.name} canEdit={permissions.canEdit} onRename={actions.rename} />
        <button type="button" className="close" aria-label="Close details" onClick={props.onClose}>
          ×
        </button>
      </header>
      <p className="asset-meta">
        {kind} · {asset.type}
      </p>
      <TagEditor tags={props.tags} canEdit={permissions.canEdit} onSave={actions.setTags} />
      {previewed !== undefined && (
        <div className="asset-preview">
          <VariantMedia
            spaceId={spaceId}
            variant={previewed}
            kind={kind}
            large
            progress={props.progressOf(previewed.id)}
            cdnBaseUrl={props.cdnBaseUrl}
          />
        </div>
      )}
      {permissions.canEdit && previewed?.status === "completed" && (
        <RefineForm key={previewed.id} onRefine={(prompt) => actions.refine(previewed.id, prompt)} />
      )}
      <h3>Variants</h3>
      <VariantStrip
        spaceId={spaceId}
        kind={kind}
        assetType={asset.type}
        variants={variants}
        activeVariantId={asset.active_variant_id ?? null}
        previewedId={previewed?.id ?? null}
        permissions={permissions}
        actions={actions}
        onPreview={props.onPreview}
        progressOf={props.progressOf}
        cdnBaseUrl={props.cdnBaseUrl}
      />
      <h3>Lineage</h3>
      <LineageGraph
        assetName={asset.name}
        lineage={props.lineage}
        canEdit={permissions.canEdit}
        linkTo={props.linkTo}
        onSever={actions.sever}
      />
      <footer>
        <button
          type="button"
          className="danger"
          disabled={!permissions.isOwner || remove.busy}
          title={permissions.isOwner ? undefined : "only the owner can delete an asset"}
          onClick={() => {
            if (window.confirm(`Delete “${asset.name}” and its variants?`)) void remove.submit();
          }}
        >
          Delete asset
        </button>
        {remove.error !== null && (
          <p className="form-error" role="alert">
            {remove.error}
          </p>
        )}
      </footer>
    </aside>
  );
}

function AssetName({
  name,
  canEdit,
  onRename,
}: {
  name: string;
  canEdit: boolean;
  onRename: (name: string) => Promise<void>;
}) {
  const [editing, setEditing] = useState(false);
  const [value, setValue] = useState(name);
  const { busy, error, submit } = useSubmit(async (next: string) => {
    await onRename(next);
    setEditing(false);
  });
  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    if (value.trim() !== "" && value.trim() !== name) void submit(value.trim());
    else setEditing(false);
  };
  if (!editing) {
    return (
      <div className="asset-name">
        <h2>{name}</h2>
        <button
          type="button"
          className="link-button"
          disabled={!canEdit}
          onClick={() => {
            setValue(name);
            setEditing(true);
          }}
        >
          Rename
        </button>
      </div>
    );
  }
  return (
    <form className="inline-form" onSubmit={onSubmit} aria-label="Rename asset">
      <input aria-label="Asset name" value={value} onChange={(e) => setValue(e.target.value)} autoFocus />
      <button type="submit" disabled={busy}>
        Save
      </button>
      {error !== null && (
        <span className="form-error" role="alert">
          {error}
        </span>
      )}
    </form>
  );
}

function TagEditor({
  tags,
  canEdit,
  onSave,
}: {
  tags: string[];
  canEdit: boolean;
  onSave: (tags: string[]) => Promise<void>;
}) {
  const [text, setText] = useState<string | null>(null);
  const { busy, error, submit } = useSubmit(async (next: string[]) => {
    await onSave(next);
    setText(null);
  });
  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    const next = [
      ...new Set(
        (text ?? "")
          .split(",")
          .map((tag) => tag.trim())
          .filter(Boolean),
      ),
    ];
    void submit(next);
  };
  return (
    <form className="inline-form tag-editor" onSubmit={onSubmit} aria-label="Tags">
      <input
        aria-label="Tags, separated by commas"
        placeholder="tags, separated by commas"
        disabled={!canEdit}
        value={text ?? tags.join(", ")}
        onChange={(e) => setText(e.target.value)}
      />
      <button type="submit" disabled={!canEdit || busy || text === null}>
        Save tags
      </button>
      {error !== null && (
        <span className="form-error" role="alert">
          {error}
        </span>
      )}
    </form>
  );
}

/** A new variant of this asset from the one shown, with a new prompt (`refine:request`). */
function RefineForm({ onRefine }: { onRefine: (prompt: string) => Promise<void> }) {
  const [prompt, setPrompt] = useState("");
  const { busy, error, submit } = useSubmit(async (text: string) => {
    await onRefine(text);
    setPrompt("");
  });
  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    if (prompt.trim() !== "") void submit(prompt.trim());
  };
  return (
    <form className="inline-form refine-form" onSubmit={onSubmit} aria-label="Refine">
      <input
        aria-label="Refine prompt"
        placeholder="what to change in this variant"
        value={prompt}
        onChange={(e) => setPrompt(e.target.value)}
      />
      <button type="submit" disabled={busy || prompt.trim() === ""}>
        Refine
      </button>
      {error !== null && (
        <span className="form-error" role="alert">
          {error}
        </span>
      )}
    </form>
  );
}
