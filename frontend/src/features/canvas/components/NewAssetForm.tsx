import type { MediaKind } from "@proto/messages";
import { type FormEvent, useState } from "react";
import { useSubmit } from "../../../hooks/useSubmit";
import { ASSET_TYPES_BY_KIND as TYPES_BY_KIND } from "../../../lib/assetTypes";

export interface NewAsset {
  name: string;
  assetType: string;
  mediaKind: MediaKind;
}

export function NewAssetForm({
  onCreate,
  disabled,
}: {
  onCreate: (asset: NewAsset) => Promise<void>;
  disabled: boolean;
}) {
  const [name, setName] = useState("");
  const [mediaKind, setMediaKind] = useState<MediaKind>("image");
  const [assetType, setAssetType] = useState("character");
  const { busy, error, submit } = useSubmit(async (asset: NewAsset) => {
    await onCreate(asset);
    setName("");
  });
  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    if (name.trim() !== "") void submit({ name: name.trim(), assetType, mediaKind });
  };
  return (
    <form className="inline-form new-asset" onSubmit={onSubmit} aria-label="New asset">
      <input
        aria-label="Asset name"
        placeholder="New asset name"
        disabled={disabled}
        value={name}
        onChange={(e) => setName(e.target.value)}
      />
      <select
        aria-label="Asset media kind"
        disabled={disabled}
        value={mediaKind}
        onChange={(e) => {
          const kind = e.target.value as MediaKind;
          setMediaKind(kind);
          setAssetType(TYPES_BY_KIND[kind][0] ?? "item");
        }}
      >
        <option value="image">image</option>
        <option value="audio">audio</option>
        <option value="video">video</option>
      </select>
      <select
        aria-label="Asset type"
        disabled={disabled}
        value={assetType}
        onChange={(e) => setAssetType(e.target.value)}
      >
        {TYPES_BY_KIND[mediaKind].map((type) => (
          <option key={type} value={type}>
            {type}
          </option>
        ))}
      </select>
      <button type="submit" disabled={disabled || busy || name.trim() === ""}>
        Create asset
      </button>
      {error !== null && (
        <p className="form-error" role="alert">
          {error}
        </p>
      )}
    </form>
  );
}
