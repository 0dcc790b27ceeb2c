// The canvas's part of the store: the live space, the connection, the filters and moves in flight.
import type { Ack, AssetRow, Position, SpaceEvent } from "@proto/messages";
import type { ConnectionStatus, ServerMessage } from "../../lib/socket";
import type { SliceCreator } from "../../lib/slice";
import { type CanvasFilters, NO_FILTERS } from "./filters";
import { type Applied, type SpaceReplica, applyEvent, applyPresence, applySync, emptyReplica } from "./replica";

/** A card moved here but not yet confirmed by the server's event. */
export interface Move {
  requestId: string;
  position: Position;
  /** set by the ack: the move is settled once the replica reaches this seq */
  settlesAtSeq: number | null;
}

export type Received = Pick<Applied, "outcome" | "gap" | "events">;

export interface CanvasSlice {
  space: SpaceReplica | null;
  connection: ConnectionStatus;
  /** why the connection is not open, as the server or the browser said */
  connectionProblem: string | null;
  filters: CanvasFilters;
  moves: Readonly<Record<string, Move>>;
  /** Starts (or keeps, when it is the same space) the copy of a space. */
  openSpace(spaceId: string): void;
  closeSpace(): void;
  /**
   * Applies one server message; says whether a gap opened, so the caller can resync, and
   * which events were applied now (in seq order), so other slices apply each exactly once.
   */
  receive(message: ServerMessage): Received | null;
  setConnection(status: ConnectionStatus, problem?: string | null): void;
  setFilters(filters: Partial<CanvasFilters>): void;
  beginMove(assetId: string, requestId: string, position: Position): void;
  /** The server answered a move: an ack settles it once its seq is applied, an error reverts it. */
  settleMove(assetId: string, requestId: string, ack: Ack | null): void;
}

/** Events carry the space's seq; answers and ephemeral messages do not (or not with a space). */
function isSpaceEvent(message: ServerMessage): message is SpaceEvent {
  return "seq" in message && "spaceId" in message;
}

/** Drops the moves that the replica has now caught up with. */
function settled(
  moves: Readonly<Record<string, Move>>,
  space: SpaceReplica,
  message: ServerMessage,
): Record<string, Move> {
  const next: Record<string, Move> = {};
  for (const [assetId, move] of Object.entries(moves)) {
    const confirmedByEvent = message.type === "asset:updated" && message.requestId === move.requestId;
    const reached = move.settlesAtSeq !== null && space.seq !== null && space.seq >= move.settlesAtSeq;
    const gone = space.assets[assetId] === undefined && space.seq !== null;
    if (!confirmedByEvent && !reached && !gone) next[assetId] = move;
  }
  return next;
}

export const createCanvasSlice: SliceCreator<CanvasSlice> = (set, get) => ({
  space: null,
  connection: "closed",
  connectionProblem: null,
  filters: NO_FILTERS,
  moves: {},

  openSpace(spaceId) {
    if (get().space?.spaceId === spaceId) return;
    set({ space: emptyReplica(spaceId), moves: {}, filters: NO_FILTERS, connection: "connecting" });
  },

  closeSpace() {
    set({ space: null, moves: {}, connection: "closed" });
  },

  receive(message) {
    const { space, moves } = get();
    if (space === null) return null;
    const events: SpaceEvent[] = [];
    let result: Received = { outcome: "applied", gap: false, events };
    let next = space;
    if (message.type === "sync:state") {
      next = applySync(space, message, events);
    } else if (message.type === "presence:update") {
      next = applyPresence(space, message.presence);
    } else if (isSpaceEvent(message)) {
      const applied = applyEvent(space, message);
      next = applied.replica;
      result = { outcome: applied.outcome, gap: applied.gap, events: applied.events };
    } else {
      // Answers and ephemeral messages (acks, errors, progress, chat deltas) change no row.
      return null;
    }
    if (next !== space) set({ space: next, moves: settled(moves, next, message) });
    return result;
  },

  setConnection(status, problem = null) {
    set({ connection: status, connectionProblem: status === "open" ? null : problem });
  },

  setFilters(filters) {
    set((state) => ({ filters: { ...state.filters, ...filters } }));
  },

  beginMove(assetId, requestId, position) {
    set((state) => ({ moves: { ...state.moves, [assetId]: { requestId, position, settlesAtSeq: null } } }));
  },

  settleMove(assetId, requestId, ack) {
    const { moves, space } = get();
    const move = moves[assetId];
    if (move === undefined || move.requestId !== requestId) return;
    const rest = { ...moves };
    delete rest[assetId];
    if (ack === null || (space?.seq != null && space.seq >= ack.seq)) {
      set({ moves: rest });
    } else {
      set({ moves: { ...rest, [assetId]: { ...move, settlesAtSeq: ack.seq } } });
    }
  },
});

/** Where a card is drawn: where it was dropped while the move is in flight, else where the server says. */
export function positionOf(asset: AssetRow, moves: Readonly<Record<string, Move>>): Position {
  return moves[asset.id]?.position ?? { x: asset.position_x ?? 0, y: asset.position_y ?? 0 };
}
