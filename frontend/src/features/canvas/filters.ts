// Which assets the canvas shows: by media kind, by tag, by a piece of the name.
import type { AssetRow, MediaKind } from "@proto/messages";
import { tagsOf } from "./replica";

export interface CanvasFilters {
  mediaKind: MediaKind | "all";
  /** one tag, or null for any */
  tag: string | null;
  /** matched against the name, ignoring case and surrounding spaces */
  search: string;
}

export const NO_FILTERS: CanvasFilters = { mediaKind: "all", tag: null, search: "" };

export function matchesFilters(asset: AssetRow, filters: CanvasFilters): boolean {
  if (filters.mediaKind !== "all" && (asset.media_kind ?? "image") !== filters.mediaKind) return false;
  if (filters.tag !== null && !tagsOf(asset).includes(filters.tag)) return false;
  const needle = filters.search.trim().toLocaleLowerCase();
  return needle === "" || asset.name.toLocaleLowerCase().includes(needle);
}

/** Every tag used in the space, sorted, for the tag filter. */
export function allTags(assets: Iterable<AssetRow>): string[] {
  const tags = new Set<string>();
  for (const asset of assets) for (const tag of tagsOf(asset)) tags.add(tag);
  return [...tags].sort((a, b) => a.localeCompare(b));
}
