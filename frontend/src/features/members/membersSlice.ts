// The members part of the store: each space's members and their roles.
import type { MemberOut, Role } from "@proto/messages";
import type { SliceCreator } from "../../lib/slice";
import type { MembersApi } from "./api";

export interface MembersSlice {
  /** by space id, then in the server's order */
  members: Readonly<Record<string, readonly MemberOut[]>>;
  loadMembers(spaceId: string): Promise<void>;
  addMember(spaceId: string, email: string, role: Role): Promise<void>;
  changeRole(spaceId: string, userId: string, role: Role): Promise<void>;
  removeMember(spaceId: string, userId: string): Promise<void>;
}

export function createMembersSlice(api: MembersApi): SliceCreator<MembersSlice> {
  const update =
    (spaceId: string, change: (members: readonly MemberOut[]) => readonly MemberOut[]) => (state: MembersSlice) => ({
      members: { ...state.members, [spaceId]: change(state.members[spaceId] ?? []) },
    });
  const upsert = (member: MemberOut) => (members: readonly MemberOut[]) =>
    members.some((m) => m.userId === member.userId)
      ? members.map((m) => (m.userId === member.userId ? member : m))
      : [...members, member];
  return (set) => ({
    members: {},
    async loadMembers(spaceId) {
      const members = await api.list(spaceId);
      set(update(spaceId, () => members));
    },
    async addMember(spaceId, email, role) {
      set(update(spaceId, upsert(await api.add(spaceId, email, role))));
    },
    async changeRole(spaceId, userId, role) {
      set(update(spaceId, upsert(await api.changeRole(spaceId, userId, role))));
    },
    async removeMember(spaceId, userId) {
      await api.remove(spaceId, userId);
      set(update(spaceId, (members) => members.filter((m) => m.userId !== userId)));
    },
  });
}
