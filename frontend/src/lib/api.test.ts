import type { AuthSession } from "@proto/messages";
import { describe, expect, it } from "vitest";
import { ApiClient, memorySessionKeeper } from "./api";
import { RequestError } from "./errors";

const NOW = Date.parse("2026-11-01T12:00:00Z");

function session(access: string, refresh: string, expiresInMs = 15 * 60_000): AuthSession {
  return {
    user: { id: "u1", email: "ada@example.com", name: "Ada", createdAt: "2026-01-01T00:00:00Z" },
    accessToken: access,
    refreshToken: refresh,
    expiresAt: new Date(NOW + expiresInMs).toISOString(),
  };
}

interface Call {
  method: string;
  path: string;
  authorization: string | null;
  body: unknown;
}

/** A gateway in a function: answers by path, records every call. */
function gateway(answer: (call: Call) => Response | Promise<Response>) {
  const calls: Call[] = [];
  const fetchImpl = async (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
    const headers = new Headers(init?.headers);
    const call = {
      method: init?.method ?? "GET",
      path: String(input),
      authorization: headers.get("Authorization"),
      body: init?.body === undefined ? undefined : JSON.parse(String(init.body)),
    };
    calls.push(call);
    return answer(call);
  };
  return { calls, fetch: fetchImpl as typeof fetch };
}

const json = (status: number, body: unknown) =>
  new Response(JSON.stringify(body), { status, headers: { "Content-Type": "application/json" } });
const expired = () =>
  json(401, { error: { code: "UNAUTHENTICATED", message: "the access token has expired", details: {} } });

describe("ApiClient", () => {
  it("sends the access token and returns the body", async () => {
    const server = gateway(() => json(200, { spaces: [] }));
    const client = new ApiClient({
      keeper: memorySessionKeeper(session("A1", "R1")),
      fetch: server.fetch,
      now: () => NOW,
    });
    await expect(client.request("GET", "/api/spaces")).resolves.toEqual({ spaces: [] });
    expect(server.calls[0]?.authorization).toBe("Bearer A1");
  });

  it("turns the gateway's error body into a typed error", async () => {
    const server = gateway(() =>
      json(403, { error: { code: "PERMISSION_DENIED", message: "owners only", details: { role: "viewer" } } }),
    );
    const client = new ApiClient({
      keeper: memorySessionKeeper(session("A1", "R1")),
      fetch: server.fetch,
      now: () => NOW,
    });
    const error = await client.request("DELETE", "/api/spaces/s1").catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(RequestError);
    expect(error).toMatchObject({
      code: "PERMISSION_DENIED",
      status: 403,
      message: "owners only",
      details: { role: "viewer" },
    });
  });

  it("on a 401, refreshes once and retries with the new token", async () => {
    const keeper = memorySessionKeeper(session("A1", "R1"));
    const server = gateway((call) => {
      if (call.path === "/api/auth/refresh") return json(200, session("A2", "R2"));
      return call.authorization === "Bearer A2" ? json(200, { ok: true }) : expired();
    });
    const client = new ApiClient({ keeper, fetch: server.fetch, now: () => NOW });
    await expect(client.request("GET", "/api/auth/me")).resolves.toEqual({ ok: true });
    expect(server.calls.map((c) => c.path)).toEqual(["/api/auth/me", "/api/auth/refresh", "/api/auth/me"]);
    expect(server.calls[1]?.body).toEqual({ refreshToken: "R1" });
    expect(keeper.load()?.refreshToken).toBe("R2");
  });

  it("does not retry a second time when the new token is refused too", async () => {
    const server = gateway((call) => (call.path === "/api/auth/refresh" ? json(200, session("A2", "R2")) : expired()));
    const client = new ApiClient({
      keeper: memorySessionKeeper(session("A1", "R1")),
      fetch: server.fetch,
      now: () => NOW,
    });
    await expect(client.request("GET", "/api/auth/me")).rejects.toMatchObject({ code: "UNAUTHENTICATED", status: 401 });
    expect(server.calls.filter((c) => c.path === "/api/auth/refresh")).toHaveLength(1);
  });

  it("signs out when the refresh token is refused", async () => {
    const keeper = memorySessionKeeper(session("A1", "R1"));
    const server = gateway(() => expired());
    const client = new ApiClient({ keeper, fetch: server.fetch, now: () => NOW });
    const changes: (AuthSession | null)[] = [];
    client.onSessionChange((next) => changes.push(next));
    await expect(client.request("GET", "/api/spaces")).rejects.toMatchObject({ code: "UNAUTHENTICATED" });
    expect(client.session).toBeNull();
    expect(keeper.load()).toBeNull();
    expect(changes).toEqual([null]);
  });

  it("refreshes a token about to expire before using it, once for many callers", async () => {
    const server = gateway((call) =>
      call.path === "/api/auth/refresh" ? json(200, session("A2", "R2")) : json(200, {}),
    );
    const client = new ApiClient({
      keeper: memorySessionKeeper(session("A1", "R1", 5_000)),
      fetch: server.fetch,
      now: () => NOW,
    });
    await Promise.all([
      client.request("GET", "/api/spaces"),
      client.request("GET", "/api/auth/me"),
      client.accessToken(),
    ]);
    expect(server.calls.filter((c) => c.path === "/api/auth/refresh")).toHaveLength(1);
    expect(server.calls.filter((c) => c.path !== "/api/auth/refresh").map((c) => c.authorization)).toEqual([
      "Bearer A2",
      "Bearer A2",
    ]);
  });

  it("keeps the session when the refresh fails for lack of a network", async () => {
    const server = gateway(() => {
      throw new TypeError("Failed to fetch");
    });
    const client = new ApiClient({
      keeper: memorySessionKeeper(session("A1", "R1", 5_000)),
      fetch: server.fetch,
      now: () => NOW,
    });
    await expect(client.accessToken()).rejects.toMatchObject({ code: "UNAVAILABLE", status: 0 });
    expect(client.session?.refreshToken).toBe("R1");
  });

  it("does not send a token to unauthenticated endpoints, nor refresh on their 401", async () => {
    const server = gateway(() => json(401, { error: { code: "UNAUTHENTICATED", message: "wrong email or password" } }));
    const client = new ApiClient({ keeper: memorySessionKeeper(null), fetch: server.fetch, now: () => NOW });
    await expect(
      client.request("POST", "/api/auth/login", { body: { email: "a@b.co", password: "x" }, authenticated: false }),
    ).rejects.toMatchObject({ message: "wrong email or password" });
    expect(server.calls).toHaveLength(1);
    expect(server.calls[0]?.authorization).toBeNull();
  });

  it("reads an answer without the error body by its status", async () => {
    const server = gateway(() => new Response("<html>bad gateway</html>", { status: 502 }));
    const client = new ApiClient({ keeper: memorySessionKeeper(null), fetch: server.fetch, now: () => NOW });
    await expect(client.request("GET", "/api/spaces", { authenticated: false })).rejects.toMatchObject({
      code: "INTERNAL_ERROR",
      status: 502,
    });
  });
});
