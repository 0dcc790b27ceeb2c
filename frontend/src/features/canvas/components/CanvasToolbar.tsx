import type { MediaKind } from "@proto/messages";
import type { CanvasFilters } from "../filters";

interface CanvasToolbarProps {
  filters: CanvasFilters;
  tags: readonly string[];
  shown: number;
  total: number;
  onChange: (filters: Partial<CanvasFilters>) => void;
}

const KINDS: readonly (MediaKind | "all")[] = ["all", "image", "audio", "video"];

export function CanvasToolbar({ filters, tags, shown, total, onChange }: CanvasToolbarProps) {
  return (
    <div className="canvas-toolbar" role="search">
      <input
        type="search"
        aria-label="Search by name"
        placeholder="Search by name"
        value={filters.search}
        onChange={(e) => onChange({ search: e.target.value })}
      />
      <select
        aria-label="Media kind"
        value={filters.mediaKind}
        onChange={(e) => onChange({ mediaKind: e.target.value as MediaKind | "all" })}
      >
        {KINDS.map((kind) => (
          <option key={kind} value={kind}>
            {kind === "all" ? "all kinds" : kind}
          </option>
        ))}
      </select>
      <select aria-label="Tag" value={filters.tag ?? ""} onChange={(e) => onChange({ tag: e.target.value || null })}>
        <option value="">any tag</option>
        {tags.map((tag) => (
          <option key={tag} value={tag}>
            {tag}
          </option>
        ))}
      </select>
      <span className="count" aria-live="polite">
        {shown === total ? `${total} ${total === 1 ? "asset" : "assets"}` : `${shown} of ${total} assets`}
      </span>
    </div>
  );
}
