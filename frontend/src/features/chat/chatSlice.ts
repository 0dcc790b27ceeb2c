// The chat panel's part of the store: the conversation of the open space, its mode and its last error.
import type { ApprovalRow, ChatDelta, ChatMessageRow, ChatMode, SpaceEvent } from "@proto/messages";
import type { SliceCreator } from "../../lib/slice";
import {
  type Conversation,
  EMPTY_CONVERSATION,
  applyApprovals,
  applyChatEvent,
  applyDelta,
  applyHistory,
} from "./conversation";

export interface ChatSlice {
  /** the space whose conversation this is; null when no space is open */
  chatSpaceId: string | null;
  conversation: Conversation;
  /** the history has been read since the space was opened */
  chatLoaded: boolean;
  chatMode: ChatMode;
  chatError: string | null;
  openChat(spaceId: string): void;
  /** The space events the canvas replica applied, in seq order: each reaches the conversation once. */
  applyChatEvents(events: readonly SpaceEvent[]): void;
  receiveDelta(delta: ChatDelta): void;
  chatHistoryRead(messages: readonly ChatMessageRow[]): void;
  approvalsRead(approvals: readonly ApprovalRow[]): void;
  setChatMode(mode: ChatMode): void;
  setChatError(error: string | null): void;
}

export const createChatSlice: SliceCreator<ChatSlice> = (set, get) => ({
  chatSpaceId: null,
  conversation: EMPTY_CONVERSATION,
  chatLoaded: false,
  chatMode: "advisor",
  chatError: null,

  openChat(spaceId) {
    if (get().chatSpaceId === spaceId) return;
    set({ chatSpaceId: spaceId, conversation: EMPTY_CONVERSATION, chatLoaded: false, chatError: null });
  },

  applyChatEvents(events) {
    if (events.length === 0) return;
    const before = get().conversation;
    const after = events.reduce(applyChatEvent, before);
    if (after !== before) set({ conversation: after });
  },

  receiveDelta(delta) {
    const before = get().conversation;
    const after = applyDelta(before, delta, Date.now());
    if (after !== before) set({ conversation: after });
  },

  chatHistoryRead(messages) {
    set({ conversation: applyHistory(get().conversation, messages), chatLoaded: true });
  },

  approvalsRead(approvals) {
    set({ conversation: applyApprovals(get().conversation, approvals) });
  },

  setChatMode(mode) {
    set({ chatMode: mode });
  },

  setChatError(error) {
    set({ chatError: error });
  },
});
