import type { AssetRow, Position, VariantRow } from "@proto/messages";
import { useState } from "react";
import { imagePreviewUrl, variantMediaUrl } from "../../../lib/media";
import { useCardDrag } from "../hooks/useCardDrag";
import { CARD_WIDTH } from "../layout";
import { tagsOf } from "../replica";

interface AssetCardProps {
  spaceId: string;
  asset: AssetRow;
  /** the active variant, else the newest one, else none */
  variant: VariantRow | null;
  position: Position;
  selected: boolean;
  canEdit: boolean;
  onOpen: (assetId: string) => void;
  onMove: (assetId: string, position: Position) => void;
  /** how far the shown variant's job is (0 to 1), when known */
  progress: number | null;
  cdnBaseUrl: string | null;
}

const IN_PROGRESS = new Set(["pending", "processing", "uploading"]);

export function AssetCard(props: AssetCardProps) {
  const { spaceId, asset, variant, position, selected, canEdit, onOpen, onMove } = props;
  const drag = useCardDrag(position, canEdit, (to) => onMove(asset.id, to));
  const tags = tagsOf(asset);
  return (
    <article
      className={`asset-card${selected ? " selected" : ""}${drag.dragging ? " dragging" : ""}`}
      style={{ left: drag.position.x, top: drag.position.y, width: CARD_WIDTH }}
      data-testid="asset-card"
      data-asset-id={asset.id}
      data-asset-name={asset.name}
      data-x={Math.round(position.x)}
      data-y={Math.round(position.y)}
      aria-label={asset.name}
      tabIndex={0}
      {...drag.handlers}
      onClick={() => {
        if (!drag.consumeClick()) onOpen(asset.id);
      }}
      onKeyDown={(event) => {
        if (event.key === "Enter") onOpen(asset.id);
      }}
    >
      <CardPreview
        spaceId={spaceId}
        asset={asset}
        variant={variant}
        progress={props.progress}
        cdnBaseUrl={props.cdnBaseUrl}
      />
      <div className="asset-card-body">
        <strong className="asset-card-name">{asset.name}</strong>
        <span className="asset-card-meta">
          {asset.media_kind ?? "image"} · {asset.type}
        </span>
        {tags.length > 0 && (
          <span className="tags">
            {tags.map((tag) => (
              <span key={tag} className="tag">
                {tag}
              </span>
            ))}
          </span>
        )}
      </div>
    </article>
  );
}

function CardPreview({
  spaceId,
  asset,
  variant,
  progress,
  cdnBaseUrl,
}: {
  spaceId: string;
  asset: AssetRow;
  variant: VariantRow | null;
  progress: number | null;
  cdnBaseUrl: string | null;
}) {
  // Try the small picture first, then the full one; a placeholder when neither can be had.
  const [attempt, setAttempt] = useState(0);
  const status = variant?.status ?? null;
  if (variant === null) return <div className="card-preview empty">no variant yet</div>;
  if (status !== null && IN_PROGRESS.has(status)) {
    return (
      <div className="card-preview working" data-status={status}>
        <span className="spinner" aria-hidden="true" />
        {status}
        {progress !== null && (
          <progress
            className="job-progress"
            max={100}
            value={Math.round(progress * 100)}
            aria-label={`${Math.round(progress * 100)}% done`}
          />
        )}
      </div>
    );
  }
  if (status === "failed") {
    return (
      <div className="card-preview failed" data-status="failed" title={variant.error_message ?? undefined}>
        failed
        {variant.error_message != null && <span className="error-text">{variant.error_message}</span>}
      </div>
    );
  }
  const kind = asset.media_kind ?? "image";
  if (kind === "audio")
    return (
      <div className="card-preview audio" data-status="completed">
        ♪ audio
      </div>
    );
  const sources =
    kind === "video"
      ? [variantMediaUrl(spaceId, variant.id, "poster")]
      : [
          imagePreviewUrl(spaceId, variant, "thumb", cdnBaseUrl),
          imagePreviewUrl(spaceId, variant, "media", cdnBaseUrl),
          variantMediaUrl(spaceId, variant.id, "media"),
        ];
  const src = sources[attempt];
  if (src === undefined)
    return (
      <div className="card-preview placeholder" data-status="completed">
        {kind}
      </div>
    );
  return (
    <img
      className="card-preview"
      data-status="completed"
      src={src}
      alt={asset.name}
      draggable={false}
      onError={() => setAttempt(attempt + 1)}
    />
  );
}
