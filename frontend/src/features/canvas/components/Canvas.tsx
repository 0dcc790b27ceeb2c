import type { AssetRow, Position, VariantRow } from "@proto/messages";
import { type Move, positionOf } from "../canvasSlice";
import { CARD_HEIGHT, CARD_WIDTH } from "../layout";
import { AssetCard } from "./AssetCard";

interface CanvasProps {
  spaceId: string;
  assets: readonly AssetRow[];
  variants: Readonly<Record<string, VariantRow>>;
  moves: Readonly<Record<string, Move>>;
  selectedAssetId: string | null;
  canEdit: boolean;
  onOpen: (assetId: string) => void;
  onMove: (assetId: string, position: Position) => void;
  progressOf: (variantId: string) => number | null;
  cdnBaseUrl: string | null;
}

/** The variant a card shows: the asset's active one, else its newest. */
export function shownVariant(asset: AssetRow, variants: Readonly<Record<string, VariantRow>>): VariantRow | null {
  const active = asset.active_variant_id == null ? undefined : variants[asset.active_variant_id];
  if (active !== undefined) return active;
  let newest: VariantRow | null = null;
  for (const variant of Object.values(variants)) {
    if (variant.asset_id === asset.id && (newest === null || variant.created_at > newest.created_at)) newest = variant;
  }
  return newest;
}

export function Canvas(props: CanvasProps) {
  const { spaceId, assets, variants, moves, selectedAssetId, canEdit, onOpen, onMove } = props;
  const placed = assets.map((asset) => ({ asset, position: positionOf(asset, moves) }));
  // The surface grows with its farthest card, so every card can be scrolled to.
  const width = Math.max(1200, ...placed.map(({ position }) => position.x + CARD_WIDTH + 200));
  const height = Math.max(800, ...placed.map(({ position }) => position.y + CARD_HEIGHT + 200));
  return (
    <div className="canvas" data-testid="canvas">
      <div className="canvas-surface" style={{ width, height }}>
        {placed.map(({ asset, position }) => {
          const variant = shownVariant(asset, variants);
          return (
            <AssetCard
              key={asset.id}
              spaceId={spaceId}
              asset={asset}
              variant={variant}
              progress={variant === null ? null : props.progressOf(variant.id)}
              cdnBaseUrl={props.cdnBaseUrl}
              position={position}
              selected={asset.id === selectedAssetId}
              canEdit={canEdit}
              onOpen={onOpen}
              onMove={onMove}
            />
          );
        })}
        {assets.length === 0 && (
          <p className="canvas-empty">Nothing here matches. Create an asset, or clear the filters.</p>
        )}
      </div>
    </div>
  );
}
