// `/api/spaces`: the caller's spaces.
import type { CreateSpace, RenameSpace, SpaceList, SpaceOut, SpaceReply } from "@proto/messages";
import type { ApiClient } from "../../lib/api";

export interface SpacesApi {
  list(): Promise<SpaceOut[]>;
  get(spaceId: string): Promise<SpaceOut>;
  create(name: string): Promise<SpaceOut>;
  rename(spaceId: string, name: string): Promise<SpaceOut>;
  remove(spaceId: string): Promise<void>;
}

const path = (spaceId: string) => `/api/spaces/${encodeURIComponent(spaceId)}`;

export function spacesApi(client: ApiClient): SpacesApi {
  return {
    list: async () => (await client.request<SpaceList>("GET", "/api/spaces")).spaces,
    get: async (spaceId) => (await client.request<SpaceReply>("GET", path(spaceId))).space,
    create: async (name) =>
      (await client.request<SpaceReply>("POST", "/api/spaces", { body: { name } satisfies CreateSpace })).space,
    rename: async (spaceId, name) =>
      (await client.request<SpaceReply>("PATCH", path(spaceId), { body: { name } satisfies RenameSpace })).space,
    remove: (spaceId) => client.request<void>("DELETE", path(spaceId)),
  };
}
