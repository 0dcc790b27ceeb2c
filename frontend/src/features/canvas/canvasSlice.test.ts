import type { Ack } from "@proto/messages";
import { describe, expect, it } from "vitest";
import { createStore } from "zustand/vanilla";
import { SPACE, assetRow, event, syncState } from "../../test/rows";
import { type CanvasSlice, createCanvasSlice, positionOf } from "./canvasSlice";

function canvas() {
  const store = createStore<CanvasSlice>()((set, get) => createCanvasSlice(set, get));
  store.getState().openSpace(SPACE);
  return store;
}

const ack = (requestId: string, seq: number): Ack => ({ type: "ack", requestId, seq });

describe("receiving server messages", () => {
  it("applies a sync and then events in order, and reports duplicates", () => {
    const store = canvas();
    store.getState().receive(syncState(1, { assets: [assetRow("a")] }));
    const created = event(2, { type: "asset:created", asset: assetRow("b") });
    expect(store.getState().receive(created)).toEqual({ outcome: "applied", gap: false, events: [created] });
    expect(store.getState().receive(created)).toEqual({ outcome: "duplicate", gap: false, events: [] });
    expect(store.getState().space?.seq).toBe(2);
    expect(Object.keys(store.getState().space?.assets ?? {})).toEqual(["a", "b"]);
  });

  it("lists the held events a closed gap let through, in seq order", () => {
    const store = canvas();
    store.getState().receive(syncState(1));
    const third = event(3, { type: "asset:created", asset: assetRow("c") });
    const second = event(2, { type: "asset:created", asset: assetRow("b") });
    expect(store.getState().receive(third)?.events).toEqual([]);
    expect(store.getState().receive(second)?.events).toEqual([second, third]);
  });

  it("passes answers and ephemeral messages by without touching the copy", () => {
    const store = canvas();
    store.getState().receive(syncState(1));
    const before = store.getState().space;
    const progress = {
      type: "job:progress",
      spaceId: SPACE,
      jobId: "v:1",
      variantId: "v",
      attempt: 1,
      status: "processing",
      progress: 0.5,
    } as const;
    expect(store.getState().receive(progress)).toBeNull();
    expect(store.getState().receive({ type: "chat:delta", messageId: "m", index: 0, text: "hi" })).toBeNull();
    expect(store.getState().space).toBe(before);
  });

  it("keeps the media CDN the sync names", () => {
    const store = canvas();
    store.getState().receive(syncState(1, { mediaCdnBaseUrl: "https://cdn.example" }));
    expect(store.getState().space?.mediaCdnBaseUrl).toBe("https://cdn.example");
  });

  it("reports a gap once, so the socket asks for the missing events", () => {
    const store = canvas();
    store.getState().receive(syncState(1));
    expect(store.getState().receive(event(4, { type: "asset:created", asset: assetRow("d") }))?.gap).toBe(true);
    expect(store.getState().receive(event(5, { type: "asset:created", asset: assetRow("e") }))?.gap).toBe(false);
  });

  it("keeps presence from sync:state and presence:update", () => {
    const store = canvas();
    store.getState().receive(syncState(0, { presence: [{ userId: "u1", name: "Ada" }] }));
    store.getState().receive({ type: "presence:update", presence: [{ userId: "u2", name: "Bob", viewing: "a" }] });
    expect(store.getState().space?.presence).toEqual([{ userId: "u2", name: "Bob", viewing: "a" }]);
  });

  it("opening the same space again keeps its copy, so coming back shows it at once", () => {
    const store = canvas();
    store.getState().receive(syncState(3, { assets: [assetRow("a")] }));
    store.getState().openSpace(SPACE);
    expect(store.getState().space?.seq).toBe(3);
    store.getState().openSpace("another");
    expect(store.getState().space).toMatchObject({ spaceId: "another", seq: null });
  });
});

describe("moving a card", () => {
  it("shows it where it was dropped until the server's event confirms the move", () => {
    const store = canvas();
    store.getState().receive(syncState(1, { assets: [assetRow("a", { position_x: 0, position_y: 0 })] }));
    store.getState().beginMove("a", "r1", { x: 300, y: 200 });
    const asset = () => store.getState().space?.assets.a ?? assetRow("missing");
    expect(positionOf(asset(), store.getState().moves)).toEqual({ x: 300, y: 200 });

    store.getState().receive({
      ...event(2, { type: "asset:updated", asset: assetRow("a", { position_x: 300, position_y: 200 }) }),
      requestId: "r1",
    });
    expect(store.getState().moves).toEqual({});
    expect(positionOf(asset(), store.getState().moves)).toEqual({ x: 300, y: 200 });
  });

  it("an ack that comes before the event keeps the card in place until the replica reaches its seq", () => {
    const store = canvas();
    store.getState().receive(syncState(1, { assets: [assetRow("a")] }));
    store.getState().beginMove("a", "r1", { x: 50, y: 60 });
    store.getState().settleMove("a", "r1", ack("r1", 3));
    expect(store.getState().moves.a).toMatchObject({ settlesAtSeq: 3 });
    store.getState().receive(event(2, { type: "asset:created", asset: assetRow("b") }));
    expect(store.getState().moves.a?.position).toEqual({ x: 50, y: 60 });
    store
      .getState()
      .receive(event(3, { type: "asset:updated", asset: assetRow("a", { position_x: 50, position_y: 60 }) }));
    expect(store.getState().moves).toEqual({});
  });

  it("an ack for a move that changed nothing settles at once", () => {
    const store = canvas();
    store.getState().receive(syncState(5, { assets: [assetRow("a")] }));
    store.getState().beginMove("a", "r1", { x: 0, y: 0 });
    store.getState().settleMove("a", "r1", ack("r1", 5));
    expect(store.getState().moves).toEqual({});
  });

  it("a refused move puts the card back", () => {
    const store = canvas();
    store.getState().receive(syncState(1, { assets: [assetRow("a", { position_x: 10, position_y: 20 })] }));
    store.getState().beginMove("a", "r1", { x: 500, y: 500 });
    store.getState().settleMove("a", "r1", null);
    const asset = store.getState().space?.assets.a ?? assetRow("missing");
    expect(positionOf(asset, store.getState().moves)).toEqual({ x: 10, y: 20 });
  });

  it("an answer to an older move does not settle a newer one", () => {
    const store = canvas();
    store.getState().receive(syncState(1, { assets: [assetRow("a")] }));
    store.getState().beginMove("a", "r1", { x: 1, y: 1 });
    store.getState().beginMove("a", "r2", { x: 2, y: 2 });
    store.getState().settleMove("a", "r1", null);
    expect(store.getState().moves.a?.requestId).toBe("r2");
  });
});
