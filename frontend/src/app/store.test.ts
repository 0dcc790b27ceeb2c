import type { AuthSession, SpaceOut } from "@proto/messages";
import { describe, expect, it } from "vitest";
import { ApiClient, memorySessionKeeper } from "../lib/api";
import { SPACE, assetRow, syncState } from "../test/rows";
import { createAppStore } from "./store";

const session: AuthSession = {
  user: { id: "u1", email: "ada@example.com", name: "Ada", createdAt: "2026-01-01T00:00:00Z" },
  accessToken: "A1",
  refreshToken: "R1",
  expiresAt: "2999-01-01T00:00:00Z",
};
const space: SpaceOut = { id: SPACE, name: "Trailer", role: "owner", createdBy: "u1", createdAt: "", updatedAt: "" };

function json(status: number, body?: unknown): Response {
  return new Response(body === undefined ? null : JSON.stringify(body), { status });
}

/** The store over an API client whose gateway is a function of the request. */
function appStore(answer: (method: string, path: string) => Response) {
  const fetchImpl = (async (input: RequestInfo | URL, init?: RequestInit) =>
    answer(init?.method ?? "GET", String(input))) as typeof fetch;
  const client = new ApiClient({ keeper: memorySessionKeeper(), fetch: fetchImpl });
  return { store: createAppStore(client), client };
}

describe("the app store", () => {
  it("signs in, lists the spaces, and forgets everything when signed out", async () => {
    const { store, client } = appStore((method, path) => {
      if (path === "/api/auth/login") return json(200, session);
      if (path === "/api/spaces") return json(200, { spaces: [space] });
      if (path === "/api/auth/logout") return json(204);
      return json(404, { error: { code: "NOT_FOUND", message: `${method} ${path}` } });
    });
    await store.getState().signIn({ email: "ada@example.com", password: "pw" });
    expect(store.getState().user?.name).toBe("Ada");
    expect(client.session?.accessToken).toBe("A1");

    await store.getState().loadSpaces();
    store.getState().openSpace(SPACE);
    store.getState().receive(syncState(2, { assets: [assetRow("a")] }));
    expect(store.getState().spaces[SPACE]?.name).toBe("Trailer");

    await store.getState().signOut();
    expect(store.getState().user).toBeNull();
    expect(store.getState().spaces).toEqual({});
    expect(store.getState().space).toBeNull();
    expect(client.session).toBeNull();
  });

  it("a session that can no longer be refreshed signs the user out everywhere in the app", async () => {
    const { store, client } = appStore((_method, path) =>
      json(401, {
        error: { code: "UNAUTHENTICATED", message: path === "/api/auth/refresh" ? "refresh token revoked" : "expired" },
      }),
    );
    client.setSession(session);
    store.setState({ user: session.user });
    await expect(store.getState().loadSpaces()).rejects.toMatchObject({ code: "UNAUTHENTICATED" });
    expect(store.getState().user).toBeNull();
  });

  it("failed sign-ins keep the user signed out and say why", async () => {
    const { store } = appStore(() =>
      json(401, { error: { code: "UNAUTHENTICATED", message: "wrong email or password" } }),
    );
    await expect(store.getState().signIn({ email: "ada@example.com", password: "nope" })).rejects.toMatchObject({
      message: "wrong email or password",
    });
    expect(store.getState().user).toBeNull();
  });
});
