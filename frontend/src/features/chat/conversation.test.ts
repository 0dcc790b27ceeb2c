import type { ApprovalRow, ChatMessageRow } from "@proto/messages";
import { describe, expect, it } from "vitest";
import { event } from "../../test/rows";
import {
  type Conversation,
  EMPTY_CONVERSATION,
  applyApprovals,
  applyChatEvent,
  applyDelta,
  applyHistory,
  approvalsOf,
  linesOf,
} from "./conversation";

function message(id: string, fields: Partial<ChatMessageRow> = {}): ChatMessageRow {
  return { id, role: "assistant", mode: "advisor", content: `text of ${id}`, created_at: 100, ...fields };
}

function approval(id: string, fields: Partial<ApprovalRow> = {}): ApprovalRow {
  return {
    id,
    message_id: "m1",
    tool_name: "generate",
    tool_input: JSON.stringify({ name: "Red fox", mediaKind: "image", prompt: "a red fox" }),
    status: "pending",
    created_by: "bot",
    created_at: 10,
    ...fields,
  };
}

const posted = (seq: number, row: ChatMessageRow) => event(seq, { type: "chat:message", message: row });

function applyAll(conversation: Conversation, ...events: Parameters<typeof applyChatEvent>[1][]): Conversation {
  return events.reduce(applyChatEvent, conversation);
}

describe("streamed replies", () => {
  it("appends deltas by message id, then the final message replaces them with the whole text", () => {
    let conversation = applyDelta(
      EMPTY_CONVERSATION,
      { type: "chat:delta", messageId: "m1", index: 0, text: "A red" },
      5,
    );
    conversation = applyDelta(conversation, { type: "chat:delta", messageId: "m1", index: 1, text: " fox" }, 6);
    expect(linesOf(conversation)).toEqual([{ kind: "streaming", id: "m1", at: 5, text: "A red fox" }]);

    conversation = applyChatEvent(conversation, posted(1, message("m1", { content: "A red fox, running." })));
    expect(conversation.streaming).toEqual({});
    expect(linesOf(conversation).map((line) => line.kind === "message" && line.message.content)).toEqual([
      "A red fox, running.",
    ]);
  });

  it("ignores a delta it already has, and one that arrives after the final message", () => {
    let conversation = applyDelta(EMPTY_CONVERSATION, { type: "chat:delta", messageId: "m1", index: 0, text: "A" }, 1);
    conversation = applyDelta(conversation, { type: "chat:delta", messageId: "m1", index: 0, text: "A" }, 1);
    expect(conversation.streaming["m1"]?.text).toBe("A");
    conversation = applyChatEvent(conversation, posted(1, message("m1", { content: "All" })));
    const late = applyDelta(conversation, { type: "chat:delta", messageId: "m1", index: 1, text: "ll" }, 2);
    expect(late).toBe(conversation);
  });

  it("starts the text over when a turn answered anew streams from index 0 again", () => {
    let conversation = applyDelta(
      EMPTY_CONVERSATION,
      { type: "chat:delta", messageId: "m1", index: 0, text: "A r" },
      1,
    );
    conversation = applyDelta(conversation, { type: "chat:delta", messageId: "m1", index: 1, text: "ed" }, 1);
    conversation = applyDelta(conversation, { type: "chat:delta", messageId: "m1", index: 0, text: "A" }, 2);
    conversation = applyDelta(conversation, { type: "chat:delta", messageId: "m1", index: 1, text: " fox" }, 2);
    expect(conversation.streaming["m1"]).toMatchObject({ text: "A fox", nextIndex: 2 });
  });

  it("appends a delta after a missing one, as the final message will correct it", () => {
    let conversation = applyDelta(EMPTY_CONVERSATION, { type: "chat:delta", messageId: "m1", index: 0, text: "a" }, 1);
    conversation = applyDelta(conversation, { type: "chat:delta", messageId: "m1", index: 2, text: "c" }, 1);
    expect(conversation.streaming["m1"]).toMatchObject({ text: "ac", nextIndex: 3 });
  });
});

describe("events by seq", () => {
  it("applies each event once: a replay at or below the last seq changes nothing", () => {
    const first = applyAll(EMPTY_CONVERSATION, posted(1, message("m1")), posted(2, message("m2", { created_at: 200 })));
    const again = applyAll(first, posted(2, message("m2", { content: "edited?" })), posted(1, message("m1")));
    expect(again).toBe(first);
    expect(first.seq).toBe(2);
    expect(linesOf(first).map((line) => line.id)).toEqual(["m1", "m2"]);
  });

  it("moves the seq on for events that are not about the conversation", () => {
    const conversation = applyChatEvent(EMPTY_CONVERSATION, event(7, { type: "asset:deleted", assetId: "a" }));
    expect(conversation.seq).toBe(7);
    expect(conversation.messages).toEqual({});
  });

  it("chat:cleared empties the conversation, and a late history cannot bring the old messages back", () => {
    let conversation = applyAll(EMPTY_CONVERSATION, posted(1, message("m1", { created_at: 50 })));
    conversation = applyChatEvent(conversation, event(2, { type: "chat:cleared" }));
    expect(conversation.messages).toEqual({});
    conversation = applyHistory(conversation, [message("m1", { created_at: 50 })]);
    expect(conversation.messages).toEqual({});
  });

  it("merges the history with what the events brought, by message id", () => {
    const conversation = applyHistory(applyAll(EMPTY_CONVERSATION, posted(3, message("m2", { created_at: 200 }))), [
      message("m1", { role: "user", created_at: 100 }),
      message("m2", { created_at: 200 }),
    ]);
    expect(linesOf(conversation).map((line) => line.id)).toEqual(["m1", "m2"]);
  });
});

describe("approvals", () => {
  it("are created pending and updated by their events", () => {
    let conversation = applyChatEvent(
      EMPTY_CONVERSATION,
      event(1, { type: "approval:created", approval: approval("p1") }),
    );
    expect(approvalsOf(conversation).map((row) => row.status)).toEqual(["pending"]);
    conversation = applyChatEvent(
      conversation,
      event(2, { type: "approval:updated", approval: approval("p1", { status: "executed", updated_at: 20 }) }),
    );
    expect(approvalsOf(conversation).map((row) => row.status)).toEqual(["executed"]);
  });

  it("a list read before a decision does not undo the decision that arrived first", () => {
    let conversation = applyChatEvent(
      EMPTY_CONVERSATION,
      event(1, { type: "approval:updated", approval: approval("p1", { status: "rejected", updated_at: 30 }) }),
    );
    conversation = applyApprovals(conversation, [approval("p1"), approval("p2", { created_at: 11 })]);
    expect(approvalsOf(conversation).map((row) => [row.id, row.status])).toEqual([
      ["p1", "rejected"],
      ["p2", "pending"],
    ]);
  });
});
