import { describe, expect, it } from "vitest";
import { ApiClient, memorySessionKeeper } from "../lib/api";
import { RequestError } from "../lib/errors";
import { SpaceSocket } from "../lib/socket";
import { FakeSockets } from "../test/fakeWebSocket";
import { SPACE, event } from "../test/rows";
import { spaceCommands } from "./spaceCommands";
import { createAppStore } from "./store";

/** The commands of a space over a socket whose server the test plays, feeding the app's store. */
async function openSpace(onRefused?: () => void) {
  const sockets = new FakeSockets();
  const store = createAppStore(new ApiClient({ keeper: memorySessionKeeper() }));
  store.getState().openSpace(SPACE);
  store.getState().openChat(SPACE);
  let ids = 0;
  const socket = new SpaceSocket({
    url: `ws://gateway.test/api/spaces/${SPACE}/ws`,
    accessToken: async () => "token-1",
    lastSeq: () => store.getState().space?.seq ?? null,
    onMessage: (message) => {
      const received = store.getState().receive(message);
      if (received !== null) store.getState().applyChatEvents(received.events);
    },
    createSocket: sockets.create,
    newRequestId: () => `r${++ids}`,
  });
  socket.start();
  await new Promise((resolve) => setTimeout(resolve, 0));
  sockets.last.open();
  sockets.last.deliver({ type: "sync:state", seq: 1, assets: [], variants: [], lineage: [], presence: [] });
  return { server: sockets.last, store, socket, commands: spaceCommands(socket, store, onRefused) };
}

describe("clearing the conversation", () => {
  it("sends chat:clear on the socket, and the conversation empties when chat:cleared arrives", async () => {
    const { server, store, socket, commands } = await openSpace();
    server.deliver(
      event(2, { type: "chat:message", message: { id: "m1", role: "user", content: "hello", created_at: 10 } }),
    );
    expect(Object.keys(store.getState().conversation.messages)).toEqual(["m1"]);

    const cleared = commands.chatActions.clear();
    const [sent] = server.sentOfType("chat:clear");
    expect(sent).toEqual({ type: "chat:clear", requestId: expect.any(String) });
    server.deliver(event(3, { type: "chat:cleared", requestId: sent?.requestId as string }));
    server.deliver({ type: "ack", requestId: sent?.requestId, seq: 3 });
    await cleared;

    expect(store.getState().conversation.messages).toEqual({});
    socket.stop();
  });

  it("rejects with the server's refusal, leaving the conversation as it was", async () => {
    const { server, store, socket, commands } = await openSpace();
    store.getState().chatHistoryRead([{ id: "m1", role: "user", content: "hello", created_at: 10 }]);

    const cleared = commands.chatActions.clear();
    const [sent] = server.sentOfType("chat:clear");
    server.deliver({
      type: "error",
      requestId: sent?.requestId,
      code: "PERMISSION_DENIED",
      message: "viewers cannot clear the chat",
    });

    const refusal = await cleared.catch((caught: unknown) => caught);
    expect(refusal).toBeInstanceOf(RequestError);
    expect(refusal).toMatchObject({ code: "PERMISSION_DENIED", message: "viewers cannot clear the chat" });
    expect(Object.keys(store.getState().conversation.messages)).toEqual(["m1"]);
    socket.stop();
  });
});

describe("a change refused for the caller's role", () => {
  const refuse = (server: Awaited<ReturnType<typeof openSpace>>["server"], code: string, message: string) => {
    const [sent] = server.sentOfType("asset:create");
    server.deliver({ type: "error", requestId: sent?.requestId, code, message });
  };
  const lamp = { name: "Lamp", assetType: "prop", mediaKind: "image" } as const;

  it("is reported, so the page can read the role again, and still rejects with the server's words", async () => {
    let refusals = 0;
    const { server, socket, commands } = await openSpace(() => refusals++);
    const created = commands.createAsset(lamp, { x: 0, y: 0 });
    refuse(server, "PERMISSION_DENIED", "viewers can look but not change this space");

    await expect(created).rejects.toMatchObject({ message: "viewers can look but not change this space" });
    expect(refusals).toBe(1);
    socket.stop();
  });

  it("is not reported for a refusal about the change itself", async () => {
    let refusals = 0;
    const { server, socket, commands } = await openSpace(() => refusals++);
    const created = commands.createAsset(lamp, { x: 0, y: 0 });
    refuse(server, "VALIDATION_ERROR", "the name is too long");

    await expect(created).rejects.toMatchObject({ code: "VALIDATION_ERROR" });
    expect(refusals).toBe(0);
    socket.stop();
  });
});
