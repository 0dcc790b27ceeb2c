// The space's WebSocket client: connects with the access token, resumes from the last seq,
// reconnects with exponential backoff, and turns each request into a promise settled by
// its `ack` or `error`.
import type {
  Ack,
  ApprovalListReply,
  ChatDelta,
  ChatError,
  ChatHistoryReply,
  ClientMessageAny,
  ErrorReply,
  GenerateStarted,
  JobProgress,
  MemberRole,
  PresenceChanged,
  RefineStarted,
  SpaceEvent,
  SyncState,
} from "@proto/messages";
import { RequestError, isErrorCode } from "./errors";

/** The answers to a query: they settle its request as an `ack` settles a change. */
export type QueryReply = ChatHistoryReply | ApprovalListReply;

/** Everything the server sends on a space's socket (ARCHITECTURE §6). */
export type ServerMessage =
  | SpaceEvent
  | SyncState
  | Ack
  | ErrorReply
  | PresenceChanged
  | GenerateStarted
  | RefineStarted
  | JobProgress
  | ChatDelta
  | ChatError
  | MemberRole
  | QueryReply;

/** The queries, by the type of their message (which their reply shares). */
type QueryType = QueryReply["type"];
type ReplyTo<T extends QueryType> = Extract<QueryReply, { type: T }>;

/** A client message as the caller writes it: the socket adds the `requestId`. */
export type Outgoing = ClientMessageAny extends infer M
  ? M extends ClientMessageAny
    ? Omit<M, "requestId">
    : never
  : never;

export type ConnectionStatus =
  | "connecting" // first attempt
  | "open" // connected, resumed
  | "reconnecting" // lost, waiting for the next attempt
  | "refused" // the server will not have us (signed out, not a member, no such space)
  | "closed"; // stopped by us

/** The part of the browser's `WebSocket` this client uses, so tests can hand it a fake. */
export interface WebSocketLike {
  send(data: string): void;
  close(code?: number, reason?: string): void;
  onopen: ((event: unknown) => void) | null;
  onmessage: ((event: { data: unknown }) => void) | null;
  onclose: ((event: { code: number; reason: string }) => void) | null;
  onerror: ((event: unknown) => void) | null;
}

export type WebSocketFactory = (url: string) => WebSocketLike;

export interface Backoff {
  initialMs: number;
  maxMs: number;
  factor: number;
  /** the share of each delay drawn at random, so that clients do not come back in step */
  jitter: number;
  /** a connection open this long counts as healthy: the next loss starts the delays over */
  stableAfterMs: number;
}

/**
 * Close codes of the gateway's socket (4000–4999 are the application's, per RFC 6455): the
 * gateway closes 4403 when the caller is removed from the space, 4404 when it is deleted.
 */
export const CLOSE_UNAUTHENTICATED = 4401;
export const CLOSE_FORBIDDEN = 4403;
export const CLOSE_NOT_FOUND = 4404;

export type Access = { ok: true } | { ok: false; reason: string };

export interface SpaceSocketOptions {
  /** `ws(s)://host/api/spaces/{spaceId}/ws`, without the token */
  url: string;
  /** a usable access token, or null when signed out */
  accessToken: () => Promise<string | null>;
  /** forces a new access token after the server said ours is no good */
  renewAccess?: () => Promise<unknown>;
  /**
   * Asks, another way, whether we may still open this space. A browser does not tell why
   * an upgrade was refused (the gateway answers 401/404 instead of upgrading), so after a
   * connection that never opened, this says whether trying again is any use.
   */
  checkAccess?: () => Promise<Access>;
  /** the seq of the last event applied, or null before any state arrived */
  lastSeq: () => number | null;
  onMessage: (message: ServerMessage) => void;
  onStatus?: (status: ConnectionStatus, detail: { attempt: number; delayMs?: number; reason?: string }) => void;
  createSocket?: WebSocketFactory;
  backoff?: Partial<Backoff>;
  random?: () => number;
  newRequestId?: () => string;
}

interface Pending {
  message: ClientMessageAny;
  resolve: (reply: Ack | QueryReply) => void;
  reject: (error: RequestError) => void;
}

const QUERY_TYPES: ReadonlySet<string> = new Set<QueryType>(["chat:history", "approval:list"]);

const DEFAULT_BACKOFF: Backoff = { initialMs: 500, maxMs: 15_000, factor: 2, jitter: 0.2, stableAfterMs: 10_000 };

/** `ws(s)://<this page's host>/api/spaces/{spaceId}/ws`. */
export function spaceSocketUrl(spaceId: string, page: { protocol: string; host: string }): string {
  const scheme = page.protocol === "https:" ? "wss:" : "ws:";
  return `${scheme}//${page.host}/api/spaces/${encodeURIComponent(spaceId)}/ws`;
}

export function randomRequestId(): string {
  return globalThis.crypto.randomUUID();
}

/** The delay before reconnect attempt number `attempt` (0-based), before jitter. */
export function backoffDelay(backoff: Backoff, attempt: number): number {
  return Math.min(backoff.maxMs, backoff.initialMs * backoff.factor ** attempt);
}

export class SpaceSocket {
  private readonly options: SpaceSocketOptions;
  private readonly backoff: Backoff;
  private readonly createSocket: WebSocketFactory;
  private readonly newRequestId: () => string;
  private readonly random: () => number;
  private socket: WebSocketLike | null = null;
  private isOpen = false;
  private stopped = true;
  private attempt = 0;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private stableTimer: ReturnType<typeof setTimeout> | null = null;
  /** unanswered requests in the order they were made; re-sent after a reconnect */
  private readonly pending = new Map<string, Pending>();
  private status: ConnectionStatus = "closed";
  /** the `sync:request` of the current connection: its failure means the connection is no use */
  private syncRequestId: string | null = null;

  constructor(options: SpaceSocketOptions) {
    this.options = options;
    this.backoff = { ...DEFAULT_BACKOFF, ...options.backoff };
    this.createSocket = options.createSocket ?? ((url) => new WebSocket(url) as unknown as WebSocketLike);
    this.newRequestId = options.newRequestId ?? randomRequestId;
    this.random = options.random ?? Math.random;
  }

  get connectionStatus(): ConnectionStatus {
    return this.status;
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.attempt = 0;
    this.setStatus("connecting", {});
    void this.connect();
  }

  /** Closes for good; requests still unanswered are refused. */
  stop(): void {
    this.stopped = true;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    this.dropSocket(1000, "client stopped");
    this.failPending(new RequestError("UNAVAILABLE", "the connection to the space was closed"));
    this.setStatus("closed", {});
  }

  /**
   * Sends a client message; `done` resolves with its `ack` (or rejects with the server's
   * `error`). While disconnected the message waits and goes out after the resync; a
   * message sent before a drop goes out again with the same `requestId`, which the
   * server applies at most once.
   */
  send(message: Outgoing): { requestId: string; done: Promise<Ack> } {
    const { requestId, done } = this.track(message);
    return { requestId, done: done as Promise<Ack> };
  }

  /** Asks a question (`chat:history`, `approval:list`); settled by the reply of the same type. */
  query<T extends QueryType>(message: Extract<Outgoing, { type: T }>): Promise<ReplyTo<T>> {
    return this.track(message).done as Promise<ReplyTo<T>>;
  }

  private track(message: Outgoing): { requestId: string; done: Promise<Ack | QueryReply> } {
    const requestId = this.newRequestId();
    if (this.stopped) {
      return { requestId, done: Promise.reject(new RequestError("UNAVAILABLE", "not connected to the space")) };
    }
    const full = { ...message, requestId } as ClientMessageAny;
    const done = new Promise<Ack | QueryReply>((resolve, reject) => {
      this.pending.set(requestId, { message: full, resolve, reject });
    });
    if (this.isOpen) this.write(full);
    return { requestId, done };
  }

  /**
   * Sends a message only if connected, with no answer awaited and nothing kept for a
   * reconnect: for state that is sent again whole on every change (presence).
   */
  post(message: Outgoing): boolean {
    if (!this.isOpen) return false;
    this.write({ ...message, requestId: this.newRequestId() } as ClientMessageAny);
    return true;
  }

  /** `send`, when only the outcome matters. */
  request(message: Outgoing): Promise<Ack> {
    return this.send(message).done;
  }

  private async connect(): Promise<void> {
    const token = await this.options.accessToken().catch(() => null);
    if (this.stopped) return;
    if (token === null) {
      this.refuse("signed out");
      return;
    }
    const separator = this.options.url.includes("?") ? "&" : "?";
    const socket = this.createSocket(`${this.options.url}${separator}access_token=${encodeURIComponent(token)}`);
    this.socket = socket;
    let opened = false;
    socket.onopen = () => {
      if (socket !== this.socket) return;
      opened = true;
      this.isOpen = true;
      // Only a connection that proves useful (state arrives, or it lasts) resets the delays,
      // so a server that accepts and then fails every time is not hammered.
      this.stableTimer = setTimeout(() => this.healthy(), this.backoff.stableAfterMs);
      this.resume();
      this.setStatus("open", { attempt: 0 });
    };
    socket.onmessage = (event) => {
      if (socket === this.socket) this.receive(event.data);
    };
    socket.onerror = () => {
      // The close event that always follows says what to do.
    };
    socket.onclose = (event) => {
      if (socket === this.socket) this.lost(event.code, event.reason, opened);
    };
  }

  /** Asks again for the events after the last applied seq (the store saw a gap). */
  resync(): void {
    if (this.isOpen) this.write(this.syncRequest());
  }

  /** First thing on every connection: ask for what we missed, then send what is waiting. */
  private resume(): void {
    this.write(this.syncRequest());
    for (const { message } of this.pending.values()) this.write(message);
  }

  private syncRequest(): ClientMessageAny {
    const sinceSeq = this.options.lastSeq();
    const requestId = this.newRequestId();
    this.syncRequestId = requestId;
    return sinceSeq === null ? { type: "sync:request", requestId } : { type: "sync:request", requestId, sinceSeq };
  }

  private receive(data: unknown): void {
    if (typeof data !== "string") return;
    let message: ServerMessage;
    try {
      message = JSON.parse(data) as ServerMessage;
    } catch {
      return;
    }
    if ((message.type === "ack" || QUERY_TYPES.has(message.type)) && "requestId" in message && message.requestId) {
      const waiting = this.pending.get(message.requestId);
      this.pending.delete(message.requestId);
      waiting?.resolve(message as Ack | QueryReply);
    } else if (message.type === "chat:error" && message.requestId != null) {
      // A refused chat message keeps the original product's shape: it settles the request all the same.
      const waiting = this.pending.get(message.requestId);
      this.pending.delete(message.requestId);
      waiting?.reject(new RequestError(isErrorCode(message.code) ? message.code : "INTERNAL_ERROR", message.error));
    } else if (message.type === "error" && message.requestId != null && message.requestId === this.syncRequestId) {
      this.options.onMessage(message);
      this.syncFailed(message);
      return;
    } else if (message.type === "error" && message.requestId != null) {
      const waiting = this.pending.get(message.requestId);
      this.pending.delete(message.requestId);
      waiting?.reject(new RequestError(message.code, message.message, 0, message.details ?? {}));
    }
    if ("seq" in message) this.healthy();
    this.options.onMessage(message);
  }

  private healthy(): void {
    this.attempt = 0;
    if (this.stableTimer !== null) clearTimeout(this.stableTimer);
    this.stableTimer = null;
  }

  private lost(code: number, reason: string, opened: boolean): void {
    if (this.stableTimer !== null) clearTimeout(this.stableTimer);
    this.stableTimer = null;
    this.socket = null;
    this.isOpen = false;
    if (this.stopped) return;
    if (code === CLOSE_FORBIDDEN || code === CLOSE_NOT_FOUND) {
      this.refuse(reason || (code === CLOSE_FORBIDDEN ? "not a member of this space" : "no such space"));
      return;
    }
    this.scheduleReconnect(reason, code === CLOSE_UNAUTHENTICATED, !opened);
  }

  /** The server could not bring us up to date: without that the socket is no use, so start over. */
  private syncFailed(error: ErrorReply): void {
    this.dropSocket(1000, "resync failed");
    if (error.code === "NOT_FOUND" || error.code === "PERMISSION_DENIED") this.refuse(error.message);
    else this.scheduleReconnect(error.message, error.code === "UNAUTHENTICATED", false);
  }

  private scheduleReconnect(reason: string, renew: boolean, neverOpened: boolean): void {
    const base = backoffDelay(this.backoff, this.attempt);
    const delayMs = Math.round(base * (1 - this.backoff.jitter * this.random()));
    this.attempt += 1;
    this.setStatus("reconnecting", { attempt: this.attempt, delayMs, reason });
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.retry(renew, neverOpened);
    }, delayMs);
  }

  private async retry(renew: boolean, neverOpened: boolean): Promise<void> {
    try {
      if (renew) await this.options.renewAccess?.();
      if (neverOpened && this.options.checkAccess !== undefined) {
        const access = await this.options.checkAccess();
        if (!access.ok) {
          if (!this.stopped) this.refuse(access.reason);
          return;
        }
      }
    } catch {
      // The check itself failed (no network): trying to connect is the next best test.
    }
    if (!this.stopped) await this.connect();
  }

  private refuse(reason: string): void {
    this.stopped = true;
    this.failPending(new RequestError(reason === "signed out" ? "UNAUTHENTICATED" : "PERMISSION_DENIED", reason));
    this.setStatus("refused", { attempt: this.attempt, reason });
  }

  private write(message: ClientMessageAny): void {
    this.socket?.send(JSON.stringify(message));
  }

  private dropSocket(code: number, reason: string): void {
    if (this.stableTimer !== null) clearTimeout(this.stableTimer);
    this.stableTimer = null;
    const socket = this.socket;
    this.socket = null;
    this.isOpen = false;
    if (socket !== null) {
      socket.onopen = socket.onmessage = socket.onerror = socket.onclose = null;
      socket.close(code, reason);
    }
  }

  private failPending(error: RequestError): void {
    const waiting = [...this.pending.values()];
    this.pending.clear();
    for (const { reject } of waiting) reject(error);
  }

  private setStatus(status: ConnectionStatus, detail: { attempt?: number; delayMs?: number; reason?: string }): void {
    this.status = status;
    this.options.onStatus?.(status, { attempt: detail.attempt ?? this.attempt, ...detail });
  }
}
