// The asset details' part of the store: which variant is shown large.
import type { SliceCreator } from "../../lib/slice";

export interface AssetsSlice {
  /** the variant shown large in the details, by asset; the active one when unset */
  previewed: Readonly<Record<string, string>>;
  previewVariant(assetId: string, variantId: string): void;
}

export const createAssetsSlice: SliceCreator<AssetsSlice> = (set) => ({
  previewed: {},
  previewVariant(assetId, variantId) {
    set((state) => ({ previewed: { ...state.previewed, [assetId]: variantId } }));
  },
});
