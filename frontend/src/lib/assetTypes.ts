// The asset types of the original product, by media kind; audio routing reads `sfx` and `music`.
import type { MediaKind } from "@proto/messages";

export const ASSET_TYPES_BY_KIND: Record<MediaKind, readonly string[]> = {
  image: ["character", "scene", "item", "prop", "style"],
  audio: ["sfx", "music", "speech"],
  video: ["scene", "character", "item"],
};
