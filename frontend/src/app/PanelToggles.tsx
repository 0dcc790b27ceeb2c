import { PANEL_NAMES, type PanelName, type Panels } from "./panels";

const LABEL: Readonly<Record<PanelName, string>> = { details: "Details", chat: "Chat" };
const TITLE: Readonly<Record<PanelName, string>> = {
  details: "Show or hide the details of the open asset",
  chat: "Show or hide the chat",
};

/** The space toolbar's switches for the panels beside the canvas: pressed means shown. */
export function PanelToggles({
  panels,
  unavailable = [],
  onToggle,
}: {
  panels: Panels;
  /** panels with nothing to show right now (no asset open) */
  unavailable?: readonly PanelName[];
  onToggle: (name: PanelName, shown: boolean) => void;
}) {
  return (
    <div className="panel-toggles" role="group" aria-label="Panels">
      {PANEL_NAMES.map((name) => (
        <button
          key={name}
          type="button"
          className="panel-toggle"
          aria-pressed={panels[name]}
          title={TITLE[name]}
          disabled={unavailable.includes(name)}
          onClick={() => onToggle(name, !panels[name])}
        >
          {LABEL[name]}
        </button>
      ))}
    </div>
  );
}
