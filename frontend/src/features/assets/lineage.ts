// An asset's place in the lineage: the variants it came from and those made from it.
import type { AssetRow, LineageRelation, LineageRow, VariantRow } from "@proto/messages";

export interface LineageLink {
  lineageId: string;
  relation: LineageRelation;
  severed: boolean;
  /** the variant at the other end of the link */
  variantId: string;
  /** the asset that variant belongs to; null when it is gone from the space */
  assetId: string | null;
  assetName: string | null;
  /** the variant of this asset at this end of the link */
  ownVariantId: string;
}

export interface AssetLineage {
  /** where this asset's variants came from */
  parents: LineageLink[];
  /** what was made from this asset's variants */
  children: LineageLink[];
}

interface SpaceRows {
  assets: Readonly<Record<string, AssetRow>>;
  variants: Readonly<Record<string, VariantRow>>;
  lineage: Readonly<Record<string, LineageRow>>;
}

export function lineageOf(assetId: string, space: SpaceRows): AssetLineage {
  const own = new Set(
    Object.values(space.variants)
      .filter((v) => v.asset_id === assetId)
      .map((v) => v.id),
  );
  const link = (row: LineageRow, otherVariantId: string, ownVariantId: string): LineageLink => {
    const otherAssetId = space.variants[otherVariantId]?.asset_id ?? null;
    const otherAsset = otherAssetId === null ? undefined : space.assets[otherAssetId];
    return {
      lineageId: row.id,
      relation: row.relation_type,
      severed: row.severed === 1,
      variantId: otherVariantId,
      assetId: otherAsset === undefined ? null : otherAssetId,
      assetName: otherAsset?.name ?? null,
      ownVariantId,
    };
  };
  const parents: LineageLink[] = [];
  const children: LineageLink[] = [];
  const rows = Object.values(space.lineage).sort((a, b) => a.created_at - b.created_at || a.id.localeCompare(b.id));
  for (const row of rows) {
    const fromOwn = own.has(row.parent_variant_id);
    const toOwn = own.has(row.child_variant_id);
    // A refinement within the asset is a variant history, not a link to elsewhere.
    if (fromOwn && toOwn) continue;
    if (toOwn) parents.push(link(row, row.parent_variant_id, row.child_variant_id));
    if (fromOwn) children.push(link(row, row.child_variant_id, row.parent_variant_id));
  }
  return { parents, children };
}

/** The asset's variants, newest first. */
export function variantsOf(assetId: string, variants: Readonly<Record<string, VariantRow>>): VariantRow[] {
  return Object.values(variants)
    .filter((variant) => variant.asset_id === assetId)
    .sort((a, b) => b.created_at - a.created_at || b.id.localeCompare(a.id));
}
