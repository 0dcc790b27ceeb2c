// What the user does in a space, turned into socket messages, with optimistic moves and error notices.
import type { ChatMode, ErrorCode, MediaKind, Position } from "@proto/messages";
import type { AssetActions } from "../features/assets/actions";
import type { ChatActions } from "../features/chat/components/ChatPanel";
import type { GenerateOrder } from "../features/generation/components/GenerateForm";
import { RequestError, describeError } from "../lib/errors";
import type { Outgoing, SpaceSocket } from "../lib/socket";
import type { AppStore } from "./store";

export interface SpaceCommands {
  createAsset(asset: { name: string; assetType: string; mediaKind: MediaKind }, position: Position): Promise<void>;
  moveAsset(assetId: string, position: Position): void;
  assetActions(assetId: string): AssetActions;
  /** tells the others what this user is looking at */
  viewing(assetId: string | null): void;
  generate(order: GenerateOrder, position: Position): Promise<void>;
  chatActions: ChatActions;
  /** reads the conversation and the pending approvals into the store (on every (re)connect) */
  loadChat(): Promise<void>;
}

/** Refusals that may mean the caller's role changed since the page opened (a demotion, a removal). */
const ROLE_REFUSALS: ReadonlySet<ErrorCode> = new Set(["PERMISSION_DENIED", "NOT_FOUND"]);

/**
 * `onRefused` hears of each change the server refused for one of `ROLE_REFUSALS`. The gateway
 * reads the role afresh for every change and pushes a change of role (`member:role`) or a
 * removal (close 4403) to the open page; a refusal is the fallback for a push that was lost.
 */
export function spaceCommands(socket: SpaceSocket, store: AppStore, onRefused?: () => void): SpaceCommands {
  const noticeRefusal = (error: unknown) => {
    if (error instanceof RequestError && ROLE_REFUSALS.has(error.code)) onRefused?.();
  };
  const run = async (message: Outgoing): Promise<void> => {
    try {
      await socket.request(message);
    } catch (error) {
      noticeRefusal(error);
      throw error;
    }
  };
  return {
    createAsset: (asset, position) => run({ type: "asset:create", ...asset, position }),

    moveAsset(assetId, position) {
      const { requestId, done } = socket.send({ type: "asset:update", assetId, changes: { position } });
      store.getState().beginMove(assetId, requestId, position);
      done.then(
        (ack) => store.getState().settleMove(assetId, requestId, ack),
        (error: unknown) => {
          noticeRefusal(error);
          store.getState().settleMove(assetId, requestId, null);
          store.getState().notify("error", `The card could not be moved: ${describeError(error)}`);
        },
      );
    },

    assetActions: (assetId) => ({
      rename: (name) => run({ type: "asset:update", assetId, changes: { name } }),
      setTags: (tags) => run({ type: "asset:update", assetId, changes: { tags } }),
      deleteAsset: () => run({ type: "asset:delete", assetId }),
      setActive: (variantId) => run({ type: "asset:setActive", assetId, variantId }),
      star: (variantId, starred) => run({ type: "variant:star", variantId, starred }),
      fork: (sourceVariantId, name, assetType) => run({ type: "asset:fork", sourceVariantId, name, assetType }),
      deleteVariant: (variantId) => run({ type: "variant:delete", variantId }),
      sever: (lineageId) => run({ type: "lineage:sever", lineageId }),
      retry: (variantId) => run({ type: "variant:retry", variantId }),
      refine: (sourceVariantId, prompt) => run({ type: "refine:request", sourceVariantId, prompt }),
    }),

    generate: (order, position) => run({ type: "generate:request", ...order, position }),

    chatActions: {
      send: (content: string, mode: ChatMode) => run({ type: "chat:send", content, mode }),
      approve: (approvalId) => run({ type: "approval:approve", approvalId }),
      reject: (approvalId) => run({ type: "approval:reject", approvalId }),
      clear: () => run({ type: "chat:clear" }),
    },

    async loadChat() {
      const state = store.getState();
      try {
        const [history, approvals] = await Promise.all([
          socket.query({ type: "chat:history" }),
          socket.query({ type: "approval:list" }),
        ]);
        state.chatHistoryRead(history.messages);
        state.approvalsRead(approvals.approvals);
      } catch (error) {
        state.setChatError(`The conversation could not be read: ${describeError(error)}`);
      }
    },

    viewing(assetId) {
      // Presence is advisory and sent whole on every change and every reconnect: a lost one
      // is replaced by the next, so it is not queued.
      socket.post({ type: "presence:update", viewing: assetId });
    },
  };
}
