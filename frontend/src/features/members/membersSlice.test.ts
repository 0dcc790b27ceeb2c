import type { MemberOut, Role } from "@proto/messages";
import { describe, expect, it } from "vitest";
import { createStore } from "zustand/vanilla";
import { RequestError } from "../../lib/errors";
import type { MembersApi } from "./api";
import { type MembersSlice, createMembersSlice } from "./membersSlice";

function member(userId: string, role: Role): MemberOut {
  return { userId, email: `${userId}@example.com`, name: userId, role, createdAt: "", updatedAt: "" };
}

/** The members API over a list in memory, refusing what the gateway refuses. */
function membersInMemory(initial: MemberOut[]): MembersApi {
  let members = [...initial];
  return {
    list: async () => members,
    add: async (_spaceId, email, role) => {
      const added = member(email.split("@")[0] ?? email, role);
      members = [...members, added];
      return added;
    },
    changeRole: async (_spaceId, userId, role) => {
      const found = members.find((m) => m.userId === userId);
      if (found === undefined) throw new RequestError("NOT_FOUND", "member not found", 404);
      const changed = { ...found, role };
      members = members.map((m) => (m.userId === userId ? changed : m));
      return changed;
    },
    remove: async (_spaceId, userId) => {
      members = members.filter((m) => m.userId !== userId);
    },
  };
}

function membersStore(initial: MemberOut[]) {
  return createStore<MembersSlice>()((set, get) => createMembersSlice(membersInMemory(initial))(set, get));
}

describe("members", () => {
  it("are loaded per space, added, changed and removed", async () => {
    const store = membersStore([member("ada", "owner")]);
    await store.getState().loadMembers("s1");
    await store.getState().addMember("s1", "bob@example.com", "editor");
    await store.getState().changeRole("s1", "bob", "viewer");
    expect(store.getState().members.s1?.map((m) => [m.userId, m.role])).toEqual([
      ["ada", "owner"],
      ["bob", "viewer"],
    ]);
    await store.getState().removeMember("s1", "bob");
    expect(store.getState().members.s1?.map((m) => m.userId)).toEqual(["ada"]);
    expect(store.getState().members.other).toBeUndefined();
  });

  it("a refused change leaves the list as it was", async () => {
    const store = membersStore([member("ada", "owner")]);
    await store.getState().loadMembers("s1");
    await expect(store.getState().changeRole("s1", "nobody", "editor")).rejects.toMatchObject({ code: "NOT_FOUND" });
    expect(store.getState().members.s1).toHaveLength(1);
  });
});
