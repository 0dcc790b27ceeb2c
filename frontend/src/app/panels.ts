// Which side panels of the space page are shown: the user's choice, remembered per browser.

/** The panels beside the canvas that the space toolbar shows and hides. */
export type PanelName = "details" | "chat";
export type Panels = Readonly<Record<PanelName, boolean>>;

export const PANEL_NAMES: readonly PanelName[] = ["details", "chat"];

/** Every panel is shown until the user hides it. */
export const DEFAULT_PANELS: Panels = { details: true, chat: true };

/** Where the choice is kept between page loads. */
export interface PanelKeeper {
  load(): Panels;
  save(panels: Panels): void;
}

/**
 * A `PanelKeeper` on Web Storage (`localStorage` in the browser). What it cannot read —
 * no storage, a corrupt entry, a panel it does not know — falls back to the defaults, so a
 * panel added later starts shown and a bad entry never hides one for good.
 */
export function storagePanelKeeper(
  storage: Pick<Storage, "getItem" | "setItem"> | null,
  key = "makefx.panels",
): PanelKeeper {
  return {
    load() {
      let stored: unknown = null;
      try {
        const text = storage?.getItem(key) ?? null;
        stored = text === null ? null : JSON.parse(text);
      } catch {
        return DEFAULT_PANELS;
      }
      if (typeof stored !== "object" || stored === null) return DEFAULT_PANELS;
      const chosen = stored as Partial<Record<string, unknown>>;
      const panels = { ...DEFAULT_PANELS };
      for (const name of PANEL_NAMES) {
        const shown = chosen[name];
        if (typeof shown === "boolean") panels[name] = shown;
      }
      return panels;
    },
    save(panels) {
      try {
        storage?.setItem(key, JSON.stringify(panels));
      } catch {
        // Storage full or refused (a private window): the choice lasts until the page goes.
      }
    },
  };
}

/** The browser's `localStorage`, or null where reading it is refused (sandboxed frames, some private modes). */
export function browserStorage(): Storage | null {
  try {
    return window.localStorage;
  } catch {
    return null;
  }
}
