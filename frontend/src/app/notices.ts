// Notices: short messages about what happened away from any form (a move refused, the space gone).
import type { SliceCreator } from "../lib/slice";

export interface Notice {
  id: number;
  kind: "error" | "info";
  text: string;
}

export interface NoticesSlice {
  notices: readonly Notice[];
  notify(kind: Notice["kind"], text: string): void;
  dismiss(id: number): void;
}

/** At most this many notices stay on screen; the oldest go first. */
const MAX_NOTICES = 4;

export const createNoticesSlice: SliceCreator<NoticesSlice> = (set, get) => {
  let nextId = 1;
  return {
    notices: [],
    notify(kind, text) {
      const notice = { id: nextId++, kind, text };
      set({ notices: [...get().notices, notice].slice(-MAX_NOTICES) });
    },
    dismiss(id) {
      set({ notices: get().notices.filter((notice) => notice.id !== id) });
    },
  };
};
