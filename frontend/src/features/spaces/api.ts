// `/api/spaces`: the caller's spaces.
import type { ApiClient } from "../../lib/api";
import type { Space } from "../../lib/apiTypes";

export interface SpacesApi {
  list(): Promise<Space[]>;
  get(spaceId: string): Promise<Space>;
  create(name: string): Promise<Space>;
  rename(spaceId: string, name: string): Promise<Space>;
  remove(spaceId: string): Promise<void>;
}

const path = (spaceId: string) => `/api/spaces/${encodeURIComponent(spaceId)}`;

export function spacesApi(client: ApiClient): SpacesApi {
  return {
    list: async () => (await client.request<{ spaces: Space[] }>("GET", "/api/spaces")).spaces,
    get: async (spaceId) => (await client.request<{ space: Space }>("GET", path(spaceId))).space,
    create: async (name) => (await client.request<{ space: Space }>("POST", "/api/spaces", { body: { name } })).space,
    rename: async (spaceId, name) =>
      (await client.request<{ space: Space }>("PATCH", path(spaceId), { body: { name } })).space,
    remove: (spaceId) => client.request<void>("DELETE", path(spaceId)),
  };
}
