import { describe, expect, it } from "vitest";
import { DEFAULT_PANELS, storagePanelKeeper } from "./panels";

/** Web Storage as a map, optionally refusing every call (a private window, a sandboxed frame). */
function storage(entries: Record<string, string> = {}, refuses = false) {
  const items = new Map(Object.entries(entries));
  return {
    items,
    getItem(key: string) {
      if (refuses) throw new Error("SecurityError");
      return items.get(key) ?? null;
    },
    setItem(key: string, value: string) {
      if (refuses) throw new Error("QuotaExceededError");
      items.set(key, value);
    },
  };
}

describe("the side panels the user chose", () => {
  it("are all shown in a browser that never chose", () => {
    expect(storagePanelKeeper(storage()).load()).toEqual({ details: true, chat: true });
    expect(storagePanelKeeper(null).load()).toEqual(DEFAULT_PANELS);
  });

  it("are remembered in the browser's storage, for the next page load", () => {
    const kept = storage();
    storagePanelKeeper(kept).save({ details: true, chat: false });
    expect(kept.items.get("makefx.panels")).toBe(JSON.stringify({ details: true, chat: false }));
    expect(storagePanelKeeper(kept).load()).toEqual({ details: true, chat: false });
  });

  it("fall back to shown for what cannot be read: a corrupt entry, a value not true or false, a panel not named", () => {
    expect(storagePanelKeeper(storage({ "makefx.panels": "{not json" })).load()).toEqual(DEFAULT_PANELS);
    expect(storagePanelKeeper(storage({ "makefx.panels": "[false]" })).load()).toEqual(DEFAULT_PANELS);
    expect(storagePanelKeeper(storage({ "makefx.panels": '{"chat":"no","details":false}' })).load()).toEqual({
      details: false,
      chat: true,
    });
  });

  it("still work, for this page only, where the storage refuses", () => {
    const keeper = storagePanelKeeper(storage({}, true));
    expect(() => keeper.save({ details: false, chat: false })).not.toThrow();
    expect(keeper.load()).toEqual(DEFAULT_PANELS);
  });
});
