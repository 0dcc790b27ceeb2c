// The browser's copy of one space, kept by the server's events: one reducer per event type, keyed by seq.
import type { AssetRow, LineageRow, PresenceEntry, SpaceEvent, SyncState, VariantRow } from "@proto/messages";

export interface SpaceReplica {
  spaceId: string;
  /** seq of the last event applied; null until the first `sync:state` */
  seq: number | null;
  assets: Readonly<Record<string, AssetRow>>;
  variants: Readonly<Record<string, VariantRow>>;
  lineage: Readonly<Record<string, LineageRow>>;
  presence: readonly PresenceEntry[];
  /** where image previews load from, when the server names a CDN (`sync:state`) */
  mediaCdnBaseUrl: string | null;
  /** events that arrived ahead of a gap (or before the first sync), held until it closes */
  held: Readonly<Record<number, SpaceEvent>>;
}

/** What became of one event: applied now, already seen, or held until the gap before it closes. */
export type Outcome = "applied" | "duplicate" | "held" | "foreign";

export interface Applied {
  replica: SpaceReplica;
  outcome: Outcome;
  /** a gap opened: events between `replica.seq` and this one are missing, ask for them */
  gap: boolean;
  /** the events applied now, in seq order: this one and any held ones that followed on */
  events: readonly SpaceEvent[];
}

export function emptyReplica(spaceId: string): SpaceReplica {
  return { spaceId, seq: null, assets: {}, variants: {}, lineage: {}, presence: [], mediaCdnBaseUrl: null, held: {} };
}

type Rows = Pick<SpaceReplica, "assets" | "variants" | "lineage">;
type Reducer<E extends SpaceEvent> = (rows: Rows, event: E) => Rows;
type Reducers = { [T in SpaceEvent["type"]]: Reducer<Extract<SpaceEvent, { type: T }>> };

function without<V>(record: Readonly<Record<string, V>>, key: string): Record<string, V> {
  if (!(key in record)) return record as Record<string, V>;
  const next = { ...record };
  delete next[key];
  return next;
}

/** A soft-deleted asset row leaves the canvas, as `asset:deleted` does. */
function putAsset(rows: Rows, asset: AssetRow): Rows {
  if (asset.deleted_at != null) return removeAsset(rows, asset.id);
  return { ...rows, assets: { ...rows.assets, [asset.id]: asset } };
}

function removeAsset(rows: Rows, assetId: string): Rows {
  const variants = Object.values(rows.variants).some((variant) => variant.asset_id === assetId)
    ? Object.fromEntries(Object.entries(rows.variants).filter(([, variant]) => variant.asset_id !== assetId))
    : rows.variants;
  return { ...rows, assets: without(rows.assets, assetId), variants };
}

function putVariant(rows: Rows, variant: VariantRow): Rows {
  return { ...rows, variants: { ...rows.variants, [variant.id]: variant } };
}

function putLineage(rows: Rows, lineage: LineageRow): Rows {
  return { ...rows, lineage: { ...rows.lineage, [lineage.id]: lineage } };
}

export const reducers: Reducers = {
  "asset:created": (rows, event) => putAsset(rows, event.asset),
  "asset:updated": (rows, event) => putAsset(rows, event.asset),
  "asset:deleted": (rows, event) => removeAsset(rows, event.assetId),
  "asset:forked": (rows, event) => putLineage(putVariant(putAsset(rows, event.asset), event.variant), event.lineage),
  "variant:created": (rows, event) => putVariant(rows, event.variant),
  "variant:updated": (rows, event) => putVariant(rows, event.variant),
  "variant:deleted": (rows, event) => ({ ...rows, variants: without(rows.variants, event.variantId) }),
  "lineage:created": (rows, event) => putLineage(rows, event.lineage),
  "lineage:severed": (rows, event) => {
    const row = rows.lineage[event.lineageId];
    return row === undefined ? rows : putLineage(rows, { ...row, severed: 1 });
  },
  // The outcome of a generation changes no row: its `variant:updated` carries the variant.
  "generate:result": (rows) => rows,
  // The conversation and its approvals are not canvas rows: the chat slice keeps them, fed the
  // events this replica applied (`Applied.events`), so each is applied once, in seq order.
  "chat:message": (rows) => rows,
  "chat:cleared": (rows) => rows,
  "approval:created": (rows) => rows,
  "approval:updated": (rows) => rows,
};

function reduce(rows: Rows, event: SpaceEvent): Rows {
  // The table is typed per event type; the lookup by a union key needs this one cast.
  const reducer = reducers[event.type] as Reducer<SpaceEvent>;
  return reducer(rows, event);
}

/** Applies the held events that now follow on (listed in `applied`), and forgets those already covered. */
function drain(replica: SpaceReplica, applied: SpaceEvent[] = []): SpaceReplica {
  if (replica.seq === null) return replica;
  let { seq } = replica;
  let rows: Rows = replica;
  const held: Record<number, SpaceEvent> = { ...replica.held };
  for (let next = held[seq + 1]; next !== undefined; next = held[seq + 1]) {
    delete held[seq + 1];
    rows = reduce(rows, next);
    applied.push(next);
    seq = next.seq;
  }
  for (const key of Object.keys(held)) if (Number(key) <= seq) delete held[Number(key)];
  return { ...replica, assets: rows.assets, variants: rows.variants, lineage: rows.lineage, seq, held };
}

/**
 * Applies one event. An event at or below the last applied seq is a duplicate (replays are
 * idempotent); one that skips ahead is held and reported as a gap, so that the caller asks
 * for the missing events instead of losing them.
 */
export function applyEvent(replica: SpaceReplica, event: SpaceEvent): Applied {
  if (event.spaceId !== replica.spaceId) return { replica, outcome: "foreign", gap: false, events: [] };
  if (replica.seq !== null && event.seq <= replica.seq) {
    return { replica, outcome: "duplicate", gap: false, events: [] };
  }
  if (replica.seq === null || event.seq > replica.seq + 1) {
    if (event.seq in replica.held) return { replica, outcome: "duplicate", gap: false, events: [] };
    const gapOpened = replica.seq !== null && Object.keys(replica.held).length === 0;
    const held = { ...replica.held, [event.seq]: event };
    return { replica: { ...replica, held }, outcome: "held", gap: gapOpened, events: [] };
  }
  const rows = reduce(replica, event);
  const next = { ...replica, assets: rows.assets, variants: rows.variants, lineage: rows.lineage, seq: event.seq };
  const events: SpaceEvent[] = [event];
  return { replica: drain(next, events), outcome: "applied", gap: false, events };
}

/**
 * A full state from the server replaces the copy and sets the seq; held events after it
 * still apply, and are listed in `events` when given.
 */
export function applySync(replica: SpaceReplica, state: SyncState, events: SpaceEvent[] = []): SpaceReplica {
  const byId = <R extends { id: string }>(rows: readonly R[]) => Object.fromEntries(rows.map((row) => [row.id, row]));
  const assets = byId(state.assets.filter((asset) => asset.deleted_at == null));
  return drain(
    {
      spaceId: replica.spaceId,
      seq: state.seq,
      assets,
      variants: byId(state.variants),
      lineage: byId(state.lineage),
      presence: state.presence,
      mediaCdnBaseUrl: state.mediaCdnBaseUrl ?? null,
      held: replica.held,
    },
    events,
  );
}

export function applyPresence(replica: SpaceReplica, presence: readonly PresenceEntry[]): SpaceReplica {
  return { ...replica, presence };
}

/** The asset's tags: the row keeps them as JSON text, as the space database does. */
export function tagsOf(asset: AssetRow): string[] {
  try {
    const parsed: unknown = JSON.parse(asset.tags ?? "[]");
    return Array.isArray(parsed) ? parsed.filter((tag): tag is string => typeof tag === "string") : [];
  } catch {
    return [];
  }
}
