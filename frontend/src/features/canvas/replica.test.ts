import { describe, expect, it } from "vitest";
import { SPACE, assetRow, event, lineageRow, syncState, variantRow } from "../../test/rows";
import { type SpaceReplica, applyEvent, applySync, emptyReplica, tagsOf } from "./replica";

function synced(seq = 0, fields: Parameters<typeof syncState>[1] = {}): SpaceReplica {
  return applySync(emptyReplica(SPACE), syncState(seq, fields));
}

function applyAll(replica: SpaceReplica, ...events: Parameters<typeof applyEvent>[1][]): SpaceReplica {
  return events.reduce((current, next) => applyEvent(current, next).replica, replica);
}

describe("sync:state", () => {
  it("replaces the whole copy and sets the seq", () => {
    const before = applyAll(synced(0), event(1, { type: "asset:created", asset: assetRow("old") }));
    const after = applySync(before, syncState(7, { assets: [assetRow("a")], variants: [variantRow("v", "a")] }));
    expect(after.seq).toBe(7);
    expect(Object.keys(after.assets)).toEqual(["a"]);
    expect(Object.keys(after.variants)).toEqual(["v"]);
  });

  it("leaves soft-deleted assets off the canvas", () => {
    const state = synced(3, { assets: [assetRow("a"), assetRow("gone", { deleted_at: 5 })] });
    expect(Object.keys(state.assets)).toEqual(["a"]);
  });

  it("keeps the events that arrived before it and come after its seq", () => {
    let replica = emptyReplica(SPACE);
    replica = applyEvent(replica, event(4, { type: "asset:created", asset: assetRow("early") })).replica;
    replica = applyEvent(replica, event(5, { type: "asset:created", asset: assetRow("later") })).replica;
    const after = applySync(replica, syncState(4, { assets: [assetRow("early")] }));
    expect(after.seq).toBe(5);
    expect(Object.keys(after.assets).sort()).toEqual(["early", "later"]);
    expect(after.held).toEqual({});
  });
});

describe("events in order", () => {
  it("a generation's result moves the seq on and changes no row", () => {
    const before = synced(0, { assets: [assetRow("a")], variants: [variantRow("v1", "a")] });
    const after = applyAll(
      before,
      event(1, { type: "generate:result", assetId: "a", variantId: "v1", attempt: 1, status: "completed" }),
    );
    expect(after.seq).toBe(1);
    expect(after.assets).toEqual(before.assets);
    expect(after.variants).toEqual(before.variants);
  });

  it("build the space one seq at a time", () => {
    const replica = applyAll(
      synced(0),
      event(1, { type: "asset:created", asset: assetRow("a", { name: "Hero" }) }),
      event(2, { type: "variant:created", variant: variantRow("v1", "a") }),
      event(3, { type: "variant:updated", variant: variantRow("v1", "a", { status: "completed" }) }),
      event(4, { type: "asset:updated", asset: assetRow("a", { name: "Heroine", active_variant_id: "v1" }) }),
    );
    expect(replica.seq).toBe(4);
    expect(replica.assets.a?.name).toBe("Heroine");
    expect(replica.assets.a?.active_variant_id).toBe("v1");
    expect(replica.variants.v1?.status).toBe("completed");
  });

  it("a fork brings the new asset, its variant and the forked lineage at once", () => {
    const replica = applyAll(
      synced(0, { assets: [assetRow("a")], variants: [variantRow("v1", "a", { status: "completed" })] }),
      event(1, {
        type: "asset:forked",
        asset: assetRow("b"),
        variant: variantRow("v2", "b", { status: "completed" }),
        lineage: lineageRow("l1", "v1", "v2", { relation_type: "forked" }),
      }),
    );
    expect(replica.assets.b).toBeDefined();
    expect(replica.variants.v2?.asset_id).toBe("b");
    expect(replica.lineage.l1?.relation_type).toBe("forked");
  });

  it("deleting an asset removes it and its variants, and keeps the lineage for the record", () => {
    const replica = applyAll(
      synced(0, {
        assets: [assetRow("a"), assetRow("b")],
        variants: [variantRow("v1", "a"), variantRow("v2", "b")],
        lineage: [lineageRow("l1", "v1", "v2")],
      }),
      event(1, { type: "asset:deleted", assetId: "a" }),
    );
    expect(Object.keys(replica.assets)).toEqual(["b"]);
    expect(Object.keys(replica.variants)).toEqual(["v2"]);
    expect(replica.lineage.l1).toBeDefined();
  });

  it("an update that soft-deletes an asset removes it from the canvas", () => {
    const replica = applyAll(
      synced(0, { assets: [assetRow("a")] }),
      event(1, { type: "asset:updated", asset: assetRow("a", { deleted_at: 9 }) }),
    );
    expect(replica.assets.a).toBeUndefined();
  });

  it("deleting a variant and severing a lineage link", () => {
    const replica = applyAll(
      synced(0, { variants: [variantRow("v1", "a"), variantRow("v2", "a")], lineage: [lineageRow("l1", "v1", "v2")] }),
      event(1, { type: "variant:deleted", variantId: "v1" }),
      event(2, { type: "lineage:severed", lineageId: "l1" }),
      event(3, { type: "lineage:created", lineage: lineageRow("l2", "v2", "v3", { relation_type: "refined" }) }),
    );
    expect(Object.keys(replica.variants)).toEqual(["v2"]);
    expect(replica.lineage.l1?.severed).toBe(1);
    expect(replica.lineage.l2?.relation_type).toBe("refined");
  });
});

describe("duplicates by seq", () => {
  it("an event at or below the last applied seq changes nothing", () => {
    const start = applyAll(synced(0), event(1, { type: "asset:created", asset: assetRow("a", { name: "First" }) }));
    const replay = applyEvent(start, event(1, { type: "asset:updated", asset: assetRow("a", { name: "Replayed" }) }));
    expect(replay.outcome).toBe("duplicate");
    expect(replay.replica).toBe(start);
    expect(replay.replica.assets.a?.name).toBe("First");
  });

  it("replaying the whole log twice gives the same space as playing it once", () => {
    const log = [
      event(1, { type: "asset:created", asset: assetRow("a") }),
      event(2, { type: "variant:created", variant: variantRow("v1", "a") }),
      event(3, { type: "asset:updated", asset: assetRow("a", { position_x: 40, position_y: 80 }) }),
    ];
    const once = applyAll(synced(0), ...log);
    const twice = applyAll(once, ...log);
    expect(twice).toEqual(once);
    expect(twice.seq).toBe(3);
  });

  it("events of another space are not applied", () => {
    const start = synced(0);
    const result = applyEvent(start, event(1, { type: "asset:created", asset: assetRow("a") }, "other-space"));
    expect(result.outcome).toBe("foreign");
    expect(result.replica.assets).toEqual({});
  });
});

describe("gaps and resuming", () => {
  it("an event that skips ahead is held and reported once as a gap", () => {
    const start = synced(2);
    const first = applyEvent(start, event(5, { type: "asset:created", asset: assetRow("e") }));
    expect(first.outcome).toBe("held");
    expect(first.gap).toBe(true);
    expect(first.replica.seq).toBe(2);
    const second = applyEvent(first.replica, event(6, { type: "asset:created", asset: assetRow("f") }));
    expect(second.outcome).toBe("held");
    expect(second.gap).toBe(false);
  });

  it("the missing events, when they come, apply with everything held after them", () => {
    let replica = synced(2);
    replica = applyAll(
      replica,
      event(5, { type: "asset:created", asset: assetRow("e") }),
      event(3, { type: "asset:created", asset: assetRow("c") }),
    );
    expect(replica.seq).toBe(3);
    replica = applyEvent(replica, event(4, { type: "asset:created", asset: assetRow("d") })).replica;
    expect(replica.seq).toBe(5);
    expect(Object.keys(replica.assets).sort()).toEqual(["c", "d", "e"]);
    expect(replica.held).toEqual({});
  });

  it("events before the first sync wait for it; those it already covers are dropped", () => {
    let replica = emptyReplica(SPACE);
    replica = applyAll(
      replica,
      event(3, { type: "asset:updated", asset: assetRow("a", { name: "stale" }) }),
      event(4, { type: "asset:updated", asset: assetRow("a", { name: "fresh" }) }),
    );
    expect(replica.seq).toBeNull();
    replica = applySync(replica, syncState(3, { assets: [assetRow("a", { name: "from sync" })] }));
    expect(replica.seq).toBe(4);
    expect(replica.assets.a?.name).toBe("fresh");
  });

  it("resuming from the last seq: the replayed events after it apply, those before it are ignored", () => {
    const before = applyAll(
      synced(0),
      event(1, { type: "asset:created", asset: assetRow("a") }),
      event(2, { type: "asset:updated", asset: assetRow("a", { position_x: 10 }) }),
    );
    // The server replays from `sinceSeq`; an overlap with what we have is harmless.
    const resumed = applyAll(
      before,
      event(2, { type: "asset:updated", asset: assetRow("a", { position_x: 10 }) }),
      event(3, { type: "asset:updated", asset: assetRow("a", { position_x: 99 }) }),
      event(4, { type: "asset:created", asset: assetRow("b") }),
    );
    expect(resumed.seq).toBe(4);
    expect(resumed.assets.a?.position_x).toBe(99);
    expect(resumed.assets.b).toBeDefined();
  });
});

describe("tags", () => {
  it("are read from the row's JSON text, and bad text reads as none", () => {
    expect(tagsOf(assetRow("a", { tags: '["hero","blue"]' }))).toEqual(["hero", "blue"]);
    expect(tagsOf(assetRow("a", { tags: "not json" }))).toEqual([]);
  });
});
