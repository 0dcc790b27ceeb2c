// `/api/spaces/{spaceId}/members`: who may see and change a space.
import type { Role } from "@proto/messages";
import type { ApiClient } from "../../lib/api";
import type { Member } from "../../lib/apiTypes";

export interface MembersApi {
  list(spaceId: string): Promise<Member[]>;
  add(spaceId: string, email: string, role: Role): Promise<Member>;
  changeRole(spaceId: string, userId: string, role: Role): Promise<Member>;
  remove(spaceId: string, userId: string): Promise<void>;
}

const path = (spaceId: string, userId?: string) =>
  `/api/spaces/${encodeURIComponent(spaceId)}/members` + (userId === undefined ? "" : `/${encodeURIComponent(userId)}`);

export function membersApi(client: ApiClient): MembersApi {
  return {
    list: async (spaceId) => (await client.request<{ members: Member[] }>("GET", path(spaceId))).members,
    add: async (spaceId, email, role) =>
      (await client.request<{ member: Member }>("POST", path(spaceId), { body: { email, role } })).member,
    changeRole: async (spaceId, userId, role) =>
      (await client.request<{ member: Member }>("PATCH", path(spaceId, userId), { body: { role } })).member,
    remove: (spaceId, userId) => client.request<void>("DELETE", path(spaceId, userId)),
  };
}
