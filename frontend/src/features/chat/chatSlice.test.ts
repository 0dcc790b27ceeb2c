import { describe, expect, it } from "vitest";
import { createStore } from "zustand/vanilla";
import { SPACE, event } from "../../test/rows";
import { type ChatSlice, createChatSlice } from "./chatSlice";

function chat() {
  const store = createStore<ChatSlice>()((set, get) => createChatSlice(set, get));
  store.getState().openChat(SPACE);
  return store;
}

describe("the chat slice", () => {
  it("takes the events the replica applied, ignoring those it already has", () => {
    const store = chat();
    const posted = event(4, {
      type: "chat:message",
      message: { id: "m1", role: "user", content: "hello", created_at: 1 },
    });
    store.getState().applyChatEvents([posted]);
    const after = store.getState().conversation;
    store.getState().applyChatEvents([posted]);
    expect(store.getState().conversation).toBe(after);
    expect(Object.keys(after.messages)).toEqual(["m1"]);
  });

  it("starts over when another space opens, and keeps the conversation when the same one does", () => {
    const store = chat();
    store.getState().chatHistoryRead([{ id: "m1", role: "user", content: "hello", created_at: 1 }]);
    store.getState().openChat(SPACE);
    expect(store.getState().chatLoaded).toBe(true);
    store.getState().openChat("space-2");
    expect(store.getState().chatLoaded).toBe(false);
    expect(store.getState().conversation.messages).toEqual({});
  });
});
