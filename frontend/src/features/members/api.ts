// `/api/spaces/{spaceId}/members`: who may see and change a space.
import type { AddMember, ChangeRole, MemberList, MemberOut, MemberReply, Role } from "@proto/messages";
import type { ApiClient } from "../../lib/api";

export interface MembersApi {
  list(spaceId: string): Promise<MemberOut[]>;
  add(spaceId: string, email: string, role: Role): Promise<MemberOut>;
  changeRole(spaceId: string, userId: string, role: Role): Promise<MemberOut>;
  remove(spaceId: string, userId: string): Promise<void>;
}

const path = (spaceId: string, userId?: string) =>
  `/api/spaces/${encodeURIComponent(spaceId)}/members` + (userId === undefined ? "" : `/${encodeURIComponent(userId)}`);

export function membersApi(client: ApiClient): MembersApi {
  return {
    list: async (spaceId) => (await client.request<MemberList>("GET", path(spaceId))).members,
    add: async (spaceId, email, role) =>
      (await client.request<MemberReply>("POST", path(spaceId), { body: { email, role } satisfies AddMember })).member,
    changeRole: async (spaceId, userId, role) =>
      (await client.request<MemberReply>("PATCH", path(spaceId, userId), { body: { role } satisfies ChangeRole }))
        .member,
    remove: (spaceId, userId) => client.request<void>("DELETE", path(spaceId, userId)),
  };
}
