// A stand-in for the browser's WebSocket: records what the client sends, lets the test play the server.
import type { WebSocketLike } from "../lib/socket";

export class FakeWebSocket implements WebSocketLike {
  onopen: ((event: unknown) => void) | null = null;
  onmessage: ((event: { data: unknown }) => void) | null = null;
  onclose: ((event: { code: number; reason: string }) => void) | null = null;
  onerror: ((event: unknown) => void) | null = null;
  readonly sent: Record<string, unknown>[] = [];
  closed: { code?: number; reason?: string } | null = null;

  constructor(readonly url: string) {}

  send(data: string): void {
    if (this.closed !== null) throw new Error("send on a closed socket");
    this.sent.push(JSON.parse(data) as Record<string, unknown>);
  }

  close(code?: number, reason?: string): void {
    this.closed = { code, reason };
  }

  // -- the server's side ------------------------------------------------------------

  open(): void {
    this.onopen?.({});
  }

  deliver(message: object): void {
    this.onmessage?.({ data: JSON.stringify(message) });
  }

  drop(code = 1006, reason = ""): void {
    this.closed = { code, reason };
    this.onclose?.({ code, reason });
  }

  sentOfType(type: string): Record<string, unknown>[] {
    return this.sent.filter((message) => message.type === type);
  }
}

/** Every socket the client under test opened, in order. */
export class FakeSockets {
  readonly all: FakeWebSocket[] = [];

  readonly create = (url: string): FakeWebSocket => {
    const socket = new FakeWebSocket(url);
    this.all.push(socket);
    return socket;
  };

  get last(): FakeWebSocket {
    const socket = this.all.at(-1);
    if (socket === undefined) throw new Error("no socket was opened");
    return socket;
  }
}
