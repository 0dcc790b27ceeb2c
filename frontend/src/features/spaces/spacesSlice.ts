// The spaces part of the store: the caller's spaces, each with the caller's role in it.
import type { Role, SpaceOut } from "@proto/messages";
import type { SliceCreator } from "../../lib/slice";
import type { SpacesApi } from "./api";

export interface SpacesSlice {
  /** by id; `spacesLoaded` tells an empty list from one not fetched yet */
  spaces: Readonly<Record<string, SpaceOut>>;
  spacesLoaded: boolean;
  loadSpaces(): Promise<void>;
  loadSpace(spaceId: string): Promise<SpaceOut>;
  createSpace(name: string): Promise<SpaceOut>;
  renameSpace(spaceId: string, name: string): Promise<void>;
  deleteSpace(spaceId: string): Promise<void>;
  /** The gateway said the caller's role in this space changed (`member:role`): controls follow it. */
  roleChanged(spaceId: string, role: Role): void;
  forgetSpaces(): void;
}

export function createSpacesSlice(api: SpacesApi): SliceCreator<SpacesSlice> {
  const put = (space: SpaceOut) => (state: SpacesSlice) => ({ spaces: { ...state.spaces, [space.id]: space } });
  return (set) => ({
    spaces: {},
    spacesLoaded: false,
    async loadSpaces() {
      const spaces = await api.list();
      set({ spaces: Object.fromEntries(spaces.map((space) => [space.id, space])), spacesLoaded: true });
    },
    async loadSpace(spaceId) {
      const space = await api.get(spaceId);
      set(put(space));
      return space;
    },
    async createSpace(name) {
      const space = await api.create(name);
      set(put(space));
      return space;
    },
    async renameSpace(spaceId, name) {
      set(put(await api.rename(spaceId, name)));
    },
    async deleteSpace(spaceId) {
      await api.remove(spaceId);
      set((state) => {
        const spaces = { ...state.spaces };
        delete spaces[spaceId];
        return { spaces };
      });
    },
    roleChanged(spaceId, role) {
      set((state) => {
        const space = state.spaces[spaceId];
        return space === undefined ? {} : put({ ...space, role })(state);
      });
    },
    forgetSpaces() {
      set({ spaces: {}, spacesLoaded: false });
    },
  });
}

/** Spaces in the order a person looks for them: by name. */
export function sortedSpaces(spaces: Readonly<Record<string, SpaceOut>>): SpaceOut[] {
  return Object.values(spaces).sort((a, b) => a.name.localeCompare(b.name) || a.id.localeCompare(b.id));
}
