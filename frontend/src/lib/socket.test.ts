import type { Ack } from "@proto/messages";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { FakeSockets } from "../test/fakeWebSocket";
import { RequestError } from "./errors";
import {
  CLOSE_FORBIDDEN,
  CLOSE_UNAUTHENTICATED,
  type ConnectionStatus,
  type ServerMessage,
  SpaceSocket,
  backoffDelay,
} from "./socket";

interface Harness {
  client: SpaceSocket;
  sockets: FakeSockets;
  received: ServerMessage[];
  statuses: ConnectionStatus[];
  lastSeq: { value: number | null };
  renewals: number;
}

function harness(options: { token?: string | null } = {}): Harness {
  const sockets = new FakeSockets();
  const received: ServerMessage[] = [];
  const statuses: ConnectionStatus[] = [];
  const lastSeq = { value: null as number | null };
  let ids = 0;
  const state: Harness = {
    sockets,
    received,
    statuses,
    lastSeq,
    renewals: 0,
    client: new SpaceSocket({
      url: "ws://gateway.test/api/spaces/s1/ws",
      accessToken: async () => (options.token === undefined ? "token-1" : options.token),
      renewAccess: async () => {
        state.renewals += 1;
      },
      lastSeq: () => lastSeq.value,
      onMessage: (message) => received.push(message),
      onStatus: (status) => statuses.push(status),
      createSocket: sockets.create,
      backoff: { initialMs: 100, maxMs: 1_000, factor: 2, jitter: 0, stableAfterMs: 5_000 },
      newRequestId: () => `r${++ids}`,
    }),
  };
  return state;
}

async function connected(h: Harness): Promise<void> {
  h.client.start();
  await vi.advanceTimersByTimeAsync(0);
  h.sockets.last.open();
}

beforeEach(() => {
  vi.useFakeTimers();
});

afterEach(() => {
  vi.useRealTimers();
});

describe("connecting", () => {
  it("passes the access token as a query parameter and asks for the full state first", async () => {
    const h = harness();
    await connected(h);
    expect(h.sockets.last.url).toBe("ws://gateway.test/api/spaces/s1/ws?access_token=token-1");
    expect(h.sockets.last.sent).toEqual([{ type: "sync:request", requestId: "r1" }]);
    expect(h.statuses).toEqual(["connecting", "open"]);
  });

  it("does not connect when signed out", async () => {
    const h = harness({ token: null });
    h.client.start();
    await vi.advanceTimersByTimeAsync(0);
    expect(h.sockets.all).toHaveLength(0);
    expect(h.statuses.at(-1)).toBe("refused");
  });

  it("hands every server message to the store, acks and errors included", async () => {
    const h = harness();
    await connected(h);
    h.sockets.last.deliver({ type: "presence:update", presence: [] });
    h.sockets.last.deliver({ type: "ack", requestId: "r1", seq: 0 });
    expect(h.received.map((message) => message.type)).toEqual(["presence:update", "ack"]);
  });
});

describe("requests", () => {
  it("resolve with their ack", async () => {
    const h = harness();
    await connected(h);
    const { requestId, done } = h.client.send({ type: "asset:create", name: "Hero", assetType: "character" });
    expect(h.sockets.last.sentOfType("asset:create")).toEqual([
      { type: "asset:create", name: "Hero", assetType: "character", requestId },
    ]);
    h.sockets.last.deliver({ type: "ack", requestId, seq: 4 });
    const expected: Ack = { type: "ack", requestId, seq: 4 };
    await expect(done).resolves.toEqual(expected);
  });

  it("reject with the server's error code and message", async () => {
    const h = harness();
    await connected(h);
    const { requestId, done } = h.client.send({ type: "asset:delete", assetId: "a1" });
    h.sockets.last.deliver({ type: "error", requestId, code: "PERMISSION_DENIED", message: "owners only" });
    const error = await done.catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(RequestError);
    expect(error).toMatchObject({ code: "PERMISSION_DENIED", message: "owners only" });
  });

  it("made while disconnected wait, and go out after the resync", async () => {
    const h = harness();
    h.client.start();
    const done = h.client.request({ type: "variant:star", variantId: "v1", starred: true });
    await vi.advanceTimersByTimeAsync(0);
    h.sockets.last.open();
    expect(h.sockets.last.sent.map((message) => message.type)).toEqual(["sync:request", "variant:star"]);
    h.sockets.last.deliver({ type: "ack", requestId: "r1", seq: 1 });
    await expect(done).resolves.toMatchObject({ seq: 1 });
  });

  it("a query resolves with its reply, not with an event that carries the same request id", async () => {
    const h = harness();
    await connected(h);
    const history = h.client.query({ type: "chat:history" });
    const requestId = h.sockets.last.sentOfType("chat:history")[0]?.requestId;
    h.sockets.last.deliver({
      type: "chat:cleared",
      spaceId: "s1",
      seq: 3,
      at: 1,
      requestId,
    });
    const messages = [{ id: "m1", role: "user", content: "hi", created_at: 1 }];
    h.sockets.last.deliver({ type: "chat:history", requestId, messages });
    await expect(history).resolves.toEqual({ type: "chat:history", requestId, messages });
  });

  it("a refused chat message rejects with the chat error's code and text", async () => {
    const h = harness();
    await connected(h);
    const { requestId, done } = h.client.send({ type: "chat:send", content: "hello", mode: "actor" });
    h.sockets.last.deliver({ type: "chat:error", requestId, error: "the assistant is busy", code: "RATE_LIMITED" });
    await expect(done).rejects.toMatchObject({ code: "RATE_LIMITED", message: "the assistant is busy" });
  });

  it("are refused when the client is stopped", async () => {
    const h = harness();
    await connected(h);
    const pending = h.client.request({ type: "asset:delete", assetId: "a1" });
    h.client.stop();
    await expect(pending).rejects.toMatchObject({ code: "UNAVAILABLE" });
    await expect(h.client.request({ type: "asset:delete", assetId: "a1" })).rejects.toMatchObject({
      code: "UNAVAILABLE",
    });
    expect(h.statuses.at(-1)).toBe("closed");
  });
});

describe("reconnecting", () => {
  it("resumes from the last applied seq", async () => {
    const h = harness();
    await connected(h);
    h.lastSeq.value = 42;
    h.sockets.last.drop();
    expect(h.statuses.at(-1)).toBe("reconnecting");
    await vi.advanceTimersByTimeAsync(100);
    expect(h.sockets.all).toHaveLength(2);
    h.sockets.last.open();
    expect(h.sockets.last.sentOfType("sync:request")).toEqual([
      { type: "sync:request", requestId: "r2", sinceSeq: 42 },
    ]);
    expect(h.statuses.at(-1)).toBe("open");
  });

  it("waits longer after each failed attempt, up to the cap, and starts over once connected", async () => {
    const h = harness();
    await connected(h);
    const delays: number[] = [];
    for (let attempt = 0; attempt < 6; attempt++) {
      const before = h.sockets.all.length;
      h.sockets.last.drop();
      let waited = 0;
      while (h.sockets.all.length === before) {
        await vi.advanceTimersByTimeAsync(10);
        waited += 10;
      }
      delays.push(waited);
    }
    expect(delays).toEqual([100, 200, 400, 800, 1000, 1000]);
    h.sockets.last.open();
    h.sockets.last.deliver({ type: "sync:state", seq: 0, assets: [], variants: [], lineage: [], presence: [] });
    h.sockets.last.drop();
    await vi.advanceTimersByTimeAsync(100);
    expect(h.sockets.all).toHaveLength(8);
  });

  it("does not start the delays over for a connection that opens but brings nothing", async () => {
    const h = harness();
    await connected(h);
    h.sockets.last.drop();
    await vi.advanceTimersByTimeAsync(100);
    h.sockets.last.open();
    h.sockets.last.drop();
    await vi.advanceTimersByTimeAsync(199);
    expect(h.sockets.all).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(1);
    expect(h.sockets.all).toHaveLength(3);
  });

  it("a connection that stays up for a while counts as healthy", async () => {
    const h = harness();
    await connected(h);
    h.sockets.last.drop();
    await vi.advanceTimersByTimeAsync(100);
    h.sockets.last.open();
    await vi.advanceTimersByTimeAsync(5_000);
    h.sockets.last.drop();
    await vi.advanceTimersByTimeAsync(100);
    expect(h.sockets.all).toHaveLength(3);
  });

  it("starts over when the server cannot bring it up to date, and resyncs on the new connection", async () => {
    const h = harness();
    await connected(h);
    const first = h.sockets.last;
    first.deliver({ type: "error", requestId: "r1", code: "UNAVAILABLE", message: "no replica answered" });
    expect(first.closed).not.toBeNull();
    expect(h.statuses.at(-1)).toBe("reconnecting");
    await vi.advanceTimersByTimeAsync(100);
    h.sockets.last.open();
    expect(h.sockets.last.sentOfType("sync:request")).toHaveLength(1);
  });

  it("stops when the space is gone by the time it resyncs", async () => {
    const h = harness();
    await connected(h);
    h.sockets.last.deliver({ type: "error", requestId: "r1", code: "NOT_FOUND", message: "space not found" });
    await vi.advanceTimersByTimeAsync(10_000);
    expect(h.sockets.all).toHaveLength(1);
    expect(h.statuses.at(-1)).toBe("refused");
  });

  it("sends again, with the same request id, what was unanswered when the connection dropped", async () => {
    const h = harness();
    await connected(h);
    const { requestId, done } = h.client.send({
      type: "asset:update",
      assetId: "a1",
      changes: { position: { x: 5, y: 6 } },
    });
    h.sockets.last.drop();
    await vi.advanceTimersByTimeAsync(100);
    h.sockets.last.open();
    expect(h.sockets.last.sentOfType("asset:update")).toEqual([
      { type: "asset:update", assetId: "a1", changes: { position: { x: 5, y: 6 } }, requestId },
    ]);
    h.sockets.last.deliver({ type: "ack", requestId, seq: 9 });
    await expect(done).resolves.toMatchObject({ seq: 9 });
  });

  it("renews the access token when the server says it is no good, then reconnects with the new one", async () => {
    const h = harness();
    await connected(h);
    h.sockets.last.drop(CLOSE_UNAUTHENTICATED, "token expired");
    await vi.advanceTimersByTimeAsync(100);
    expect(h.renewals).toBe(1);
    expect(h.sockets.all).toHaveLength(2);
  });

  it("stops for good when the user may not see the space", async () => {
    const h = harness();
    await connected(h);
    const outcome = h.client.request({ type: "asset:delete", assetId: "a1" }).catch((error: unknown) => error);
    h.sockets.last.drop(CLOSE_FORBIDDEN, "not a member");
    await vi.advanceTimersByTimeAsync(10_000);
    expect(h.sockets.all).toHaveLength(1);
    expect(h.statuses.at(-1)).toBe("refused");
    expect(await outcome).toMatchObject({ code: "PERMISSION_DENIED" });
  });

  it("ignores a socket it has already replaced", async () => {
    const h = harness();
    await connected(h);
    const first = h.sockets.last;
    first.drop();
    await vi.advanceTimersByTimeAsync(100);
    first.deliver({ type: "presence:update", presence: [] });
    expect(h.received).toEqual([]);
  });
});

describe("backoffDelay", () => {
  it("grows by the factor and never passes the cap", () => {
    const backoff = { initialMs: 500, maxMs: 15_000, factor: 2, jitter: 0, stableAfterMs: 10_000 };
    expect([0, 1, 2, 3, 4, 5, 6].map((attempt) => backoffDelay(backoff, attempt))).toEqual([
      500, 1000, 2000, 4000, 8000, 15000, 15000,
    ]);
  });
});

describe("an upgrade the server refused", () => {
  function withAccess(answer: () => Promise<{ ok: true } | { ok: false; reason: string }>) {
    const sockets = new FakeSockets();
    const statuses: ConnectionStatus[] = [];
    let checks = 0;
    const client = new SpaceSocket({
      url: "ws://gateway.test/api/spaces/s1/ws",
      accessToken: async () => "token-1",
      checkAccess: () => {
        checks += 1;
        return answer();
      },
      lastSeq: () => null,
      onMessage: () => undefined,
      onStatus: (status) => statuses.push(status),
      createSocket: sockets.create,
      backoff: { initialMs: 100, maxMs: 1_000, factor: 2, jitter: 0, stableAfterMs: 5_000 },
    });
    return { client, sockets, statuses, checks: () => checks };
  }

  it("is checked another way, and stops the retries when access is gone", async () => {
    const h = withAccess(async () => ({ ok: false, reason: "space not found" }));
    h.client.start();
    await vi.advanceTimersByTimeAsync(0);
    h.sockets.last.drop(1006);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(h.checks()).toBe(1);
    expect(h.sockets.all).toHaveLength(1);
    expect(h.statuses.at(-1)).toBe("refused");
  });

  it("is retried when access is still there (the server was only away)", async () => {
    const h = withAccess(async () => ({ ok: true }));
    h.client.start();
    await vi.advanceTimersByTimeAsync(0);
    h.sockets.last.drop(1006);
    await vi.advanceTimersByTimeAsync(100);
    expect(h.sockets.all).toHaveLength(2);
  });

  it("is not checked after a connection that had opened", async () => {
    const h = withAccess(async () => ({ ok: true }));
    h.client.start();
    await vi.advanceTimersByTimeAsync(0);
    h.sockets.last.open();
    h.sockets.last.drop(1006);
    await vi.advanceTimersByTimeAsync(100);
    expect(h.checks()).toBe(0);
  });
});
