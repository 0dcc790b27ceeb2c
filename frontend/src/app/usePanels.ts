// The space page's side panels, shown or hidden as the user last chose in this browser.
import { useCallback, useMemo, useState } from "react";
import { type PanelKeeper, type PanelName, type Panels, browserStorage, storagePanelKeeper } from "./panels";

export function usePanels(keeper?: PanelKeeper): {
  panels: Panels;
  setPanel: (name: PanelName, shown: boolean) => void;
} {
  const kept = useMemo(() => keeper ?? storagePanelKeeper(browserStorage()), [keeper]);
  const [panels, setPanels] = useState<Panels>(() => kept.load());
  const setPanel = useCallback(
    (name: PanelName, shown: boolean) =>
      setPanels((current) => {
        if (current[name] === shown) return current;
        const next = { ...current, [name]: shown };
        kept.save(next);
        return next;
      }),
    [kept],
  );
  return { panels, setPanel };
}
