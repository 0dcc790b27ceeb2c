// Rows and events as the server sends them, for the unit tests.
import type { AssetRow, LineageRow, SpaceEvent, SyncState, VariantRow } from "@proto/messages";

export const SPACE = "space-1";

export function assetRow(id: string, fields: Partial<AssetRow> = {}): AssetRow {
  return {
    id,
    name: `Asset ${id}`,
    type: "character",
    media_kind: "image",
    parent_asset_id: null,
    active_variant_id: null,
    position_x: 0,
    position_y: 0,
    tags: "[]",
    created_by: "user-1",
    created_at: 1_700_000_000_000,
    updated_at: null,
    deleted_at: null,
    ...fields,
  };
}

export function variantRow(id: string, assetId: string, fields: Partial<VariantRow> = {}): VariantRow {
  return {
    id,
    asset_id: assetId,
    media_kind: "image",
    status: "pending",
    recipe: "{}",
    starred: 0,
    created_by: "user-1",
    created_at: 1_700_000_000_000,
    ...fields,
  };
}

export function lineageRow(id: string, parent: string, child: string, fields: Partial<LineageRow> = {}): LineageRow {
  return {
    id,
    parent_variant_id: parent,
    child_variant_id: child,
    relation_type: "derived",
    severed: 0,
    created_at: 1,
    ...fields,
  };
}

type EventBody<E> = E extends SpaceEvent ? Omit<E, "spaceId" | "seq" | "at"> : never;

export function event(seq: number, body: EventBody<SpaceEvent>, spaceId = SPACE): SpaceEvent {
  return { ...body, spaceId, seq, at: 1_700_000_000_000 + seq } as SpaceEvent;
}

export function syncState(seq: number, fields: Partial<Omit<SyncState, "type" | "seq">> = {}): SyncState {
  return { type: "sync:state", seq, assets: [], variants: [], lineage: [], presence: [], ...fields };
}
