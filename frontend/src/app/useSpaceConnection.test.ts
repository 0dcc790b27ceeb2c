import type { SpaceOut } from "@proto/messages";
import { describe, expect, it } from "vitest";
import { ApiClient, memorySessionKeeper } from "../lib/api";
import { CLOSE_FORBIDDEN, SpaceSocket } from "../lib/socket";
import { FakeSockets } from "../test/fakeWebSocket";
import { SPACE, assetRow, event } from "../test/rows";
import { createAppStore } from "./store";
import { receiveSpaceMessage } from "./useSpaceConnection";

const space: SpaceOut = { id: SPACE, name: "Trailer", role: "editor", createdBy: "u1", createdAt: "", updatedAt: "" };

/** An open space page's store fed by a socket whose server the test plays. */
async function openPage() {
  const sockets = new FakeSockets();
  const store = createAppStore(new ApiClient({ keeper: memorySessionKeeper() }));
  store.setState({ spaces: { [SPACE]: space } });
  store.getState().openSpace(SPACE);
  store.getState().openChat(SPACE);
  let resyncs = 0;
  const socket: SpaceSocket = new SpaceSocket({
    url: `ws://gateway.test/api/spaces/${SPACE}/ws`,
    accessToken: async () => "token-1",
    lastSeq: () => store.getState().space?.seq ?? null,
    onMessage: (message) => receiveSpaceMessage(store, SPACE, message, () => resyncs++),
    onStatus: (status, detail) => store.getState().setConnection(status, detail.reason ?? null),
    createSocket: sockets.create,
  });
  socket.start();
  await new Promise((resolve) => setTimeout(resolve, 0));
  sockets.last.open();
  sockets.last.deliver({ type: "sync:state", seq: 1, assets: [], variants: [], lineage: [], presence: [] });
  return { server: sockets.last, store, socket };
}

describe("the space page's socket messages", () => {
  it("member:role changes the caller's role in the space at once, and says so", async () => {
    const { server, store, socket } = await openPage();

    server.deliver({ type: "member:role", role: "viewer" });

    expect(store.getState().spaces[SPACE]?.role).toBe("viewer");
    expect(store.getState().notices.map((notice) => [notice.kind, notice.text])).toEqual([
      ["info", "Your role in this space is now viewer."],
    ]);
    // Nothing else changes: the replica and its seq stay as they were, and later events still apply.
    expect(store.getState().space?.seq).toBe(1);
    server.deliver(event(2, { type: "asset:created", asset: assetRow("a") }));
    expect(Object.keys(store.getState().space?.assets ?? {})).toEqual(["a"]);

    server.deliver({ type: "member:role", role: "editor" });
    expect(store.getState().spaces[SPACE]?.role).toBe("editor");
    socket.stop();
  });

  it("a removal (close 4403) leaves the page refused, not reconnecting", async () => {
    const { server, store } = await openPage();

    server.drop(CLOSE_FORBIDDEN, "you are no longer a member of this space");

    expect(store.getState().connection).toBe("refused");
    expect(store.getState().connectionProblem).toBe("you are no longer a member of this space");
  });
});
