// The space's conversation as the browser keeps it: messages, replies streaming in, and approvals.
import type { ApprovalRow, ChatDelta, ChatMessageRow, SpaceEvent } from "@proto/messages";

/** A reply still streaming: the text so far, and the index of the delta expected next. */
export interface Streaming {
  text: string;
  nextIndex: number;
  startedAt: number;
}

export interface Conversation {
  /** seq of the last space event applied here; null before any */
  seq: number | null;
  messages: Readonly<Record<string, ChatMessageRow>>;
  streaming: Readonly<Record<string, Streaming>>;
  approvals: Readonly<Record<string, ApprovalRow>>;
  /** when the conversation was last cleared (ms): older messages never come back, even from a late history */
  clearedAt: number | null;
}

export const EMPTY_CONVERSATION: Conversation = {
  seq: null,
  messages: {},
  streaming: {},
  approvals: {},
  clearedAt: null,
};

function withoutKey<V>(record: Readonly<Record<string, V>>, key: string): Readonly<Record<string, V>> {
  if (!(key in record)) return record;
  const next = { ...record };
  delete next[key];
  return next;
}

function putMessage(conversation: Conversation, message: ChatMessageRow): Conversation {
  if (conversation.clearedAt !== null && message.created_at <= conversation.clearedAt) return conversation;
  return {
    ...conversation,
    messages: { ...conversation.messages, [message.id]: message },
    // The whole text has arrived: it replaces whatever streamed.
    streaming: withoutKey(conversation.streaming, message.id),
  };
}

function changedAt(approval: ApprovalRow): number {
  return approval.updated_at ?? approval.decided_at ?? approval.created_at;
}

/** An approval row replaces the one known unless it is older (a list read before a decision arrives after it). */
function putApproval(conversation: Conversation, approval: ApprovalRow): Conversation {
  const known = conversation.approvals[approval.id];
  if (known !== undefined && changedAt(known) > changedAt(approval)) return conversation;
  return { ...conversation, approvals: { ...conversation.approvals, [approval.id]: approval } };
}

/**
 * Applies one space event, once: an event at or below the last seq applied changes nothing.
 * The caller hands events in seq order (the canvas replica's applied events); those that
 * are not about the conversation only move the seq on.
 */
export function applyChatEvent(conversation: Conversation, event: SpaceEvent): Conversation {
  if (conversation.seq !== null && event.seq <= conversation.seq) return conversation;
  const next = { ...conversation, seq: event.seq };
  switch (event.type) {
    case "chat:message":
      return putMessage(next, event.message);
    case "chat:cleared":
      return { ...next, messages: {}, streaming: {}, clearedAt: event.at };
    case "approval:created":
    case "approval:updated":
      return putApproval(next, event.approval);
    default:
      return next;
  }
}

/**
 * Appends a streamed piece of a reply. A delta at an index already seen is a duplicate;
 * one that skips ahead is appended anyway (core NATS may drop one) — the final
 * `chat:message` brings the whole text. Index 0 again means the turn is being answered
 * anew (the chat service restarted it): the text starts over. Deltas of a reply already
 * posted are late.
 */
export function applyDelta(conversation: Conversation, delta: ChatDelta, now: number): Conversation {
  if (delta.messageId in conversation.messages) return conversation;
  const seen = conversation.streaming[delta.messageId];
  const restarted = seen !== undefined && delta.index === 0;
  const known = seen === undefined || restarted ? { text: "", nextIndex: 0, startedAt: now } : seen;
  if (delta.index < known.nextIndex) return conversation;
  const streaming = { text: known.text + delta.text, nextIndex: delta.index + 1, startedAt: known.startedAt };
  return { ...conversation, streaming: { ...conversation.streaming, [delta.messageId]: streaming } };
}

/** The history read on open: merged by id with what the events brought meanwhile. */
export function applyHistory(conversation: Conversation, messages: readonly ChatMessageRow[]): Conversation {
  return messages.reduce(putMessage, conversation);
}

/** The pending approvals read on open: merged by id, never over a newer decision. */
export function applyApprovals(conversation: Conversation, approvals: readonly ApprovalRow[]): Conversation {
  return approvals.reduce(putApproval, conversation);
}

/** One line of the conversation as shown: a message, or a reply still streaming. */
export type ChatLine =
  | { kind: "message"; id: string; at: number; message: ChatMessageRow }
  | { kind: "streaming"; id: string; at: number; text: string };

export function linesOf(conversation: Conversation): ChatLine[] {
  const lines: ChatLine[] = [
    ...Object.values(conversation.messages).map((message): ChatLine => ({
      kind: "message",
      id: message.id,
      at: message.created_at,
      message,
    })),
    ...Object.entries(conversation.streaming).map(([id, streaming]): ChatLine => ({
      kind: "streaming",
      id,
      at: streaming.startedAt,
      text: streaming.text,
    })),
  ];
  return lines.sort((a, b) => a.at - b.at || a.id.localeCompare(b.id));
}

/** Approvals oldest first; the pending ones are the cards that ask for a decision. */
export function approvalsOf(conversation: Conversation): ApprovalRow[] {
  return Object.values(conversation.approvals).sort((a, b) => a.created_at - b.created_at || a.id.localeCompare(b.id));
}
