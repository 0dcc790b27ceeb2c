// Keeps a space's socket open while its page is shown, feeding the store.
import { useEffect, useMemo, useState } from "react";
import type { ErrorCode } from "@proto/messages";
import { RequestError } from "../lib/errors";
import { type ServerMessage, SpaceSocket, spaceSocketUrl } from "../lib/socket";
import { useServices } from "./AppContext";
import { type SpaceCommands, spaceCommands } from "./spaceCommands";
import type { AppStore } from "./store";

/** Answers to "may I still open this space?" that make reconnecting pointless. */
const REFUSALS: ReadonlySet<ErrorCode> = new Set(["NOT_FOUND", "PERMISSION_DENIED", "UNAUTHENTICATED"]);

export function useSpaceConnection(spaceId: string): SpaceCommands | null {
  const { store, client } = useServices();
  const [socket, setSocket] = useState<SpaceSocket | null>(null);

  useEffect(() => {
    store.getState().openSpace(spaceId);
    store.getState().openChat(spaceId);
    const connection: SpaceSocket = new SpaceSocket({
      url: spaceSocketUrl(spaceId, window.location),
      accessToken: () => client.accessToken(),
      renewAccess: () => client.refresh(),
      checkAccess: async () => {
        try {
          await store.getState().loadSpace(spaceId);
          return { ok: true };
        } catch (error) {
          if (error instanceof RequestError && REFUSALS.has(error.code)) return { ok: false, reason: error.message };
          throw error;
        }
      },
      lastSeq: () => store.getState().space?.seq ?? null,
      onMessage: (message) => receiveSpaceMessage(store, spaceId, message, () => connection.resync()),
      onStatus: (status, detail) => {
        const state = store.getState();
        state.setConnection(status, detail.reason || null);
        if (status === "refused")
          state.notify("error", `This space cannot be opened: ${detail.reason ?? "access refused"}`);
      },
    });
    connection.start();
    setSocket(connection);
    return () => {
      connection.stop();
      setSocket(null);
    };
  }, [spaceId, store, client]);

  return useMemo(
    () => (socket === null ? null : spaceCommands(socket, store, () => void recheckAccess(spaceId, socket, store))),
    [spaceId, socket, store],
  );
}

/**
 * One message of the space's socket, into the store; `resync` asks again for missed events.
 *
 * The gateway pushes what changes about the caller's own membership: `member:role` when
 * their role changed (the page's controls follow at once), and a close with 4403 / 4404 when
 * they were removed or the space deleted (the socket then refuses, see `SpaceSocket`).
 */
export function receiveSpaceMessage(
  store: AppStore,
  spaceId: string,
  message: ServerMessage,
  resync: () => void,
): void {
  const state = store.getState();
  if (message.type === "error" && message.requestId == null) {
    state.notify("error", message.message);
    return;
  }
  switch (message.type) {
    case "job:progress":
      state.receiveProgress(message);
      return;
    case "chat:delta":
      state.receiveDelta(message);
      return;
    case "chat:error":
      // One that answers a request rejects it, and the form that sent it shows it.
      if (message.requestId == null) state.setChatError(message.error);
      return;
    case "member:role":
      state.roleChanged(spaceId, message.role);
      state.notify("info", `Your role in this space is now ${message.role}.`);
      return;
  }
  const received = state.receive(message);
  // The conversation takes the events the replica applied: each once, in seq order.
  if (received !== null) state.applyChatEvents(received.events);
  // A gap: events were missed (they are held meanwhile); ask for them again.
  if (received?.gap) resync();
}

/**
 * After a change was refused: reads the space again, so the page shows the role the caller
 * has now (a viewer's page has no edit controls); a space they may no longer open is closed.
 */
export async function recheckAccess(spaceId: string, socket: SpaceSocket, store: AppStore): Promise<void> {
  try {
    await store.getState().loadSpace(spaceId);
  } catch (error) {
    if (!(error instanceof RequestError && REFUSALS.has(error.code))) return;
    socket.stop();
    store.getState().setConnection("refused", error.message);
    store.getState().notify("error", `This space cannot be opened: ${error.message}`);
  }
}
