// Which models a request may use: by media kind, and for audio by asset type.
import type { MediaKind, ModelInfo } from "@proto/messages";

export function modelsFor(models: readonly ModelInfo[], kind: MediaKind, assetType: string): ModelInfo[] {
  return models.filter(
    (model) => model.mediaKind === kind && (model.assetTypes == null || model.assetTypes.includes(assetType)),
  );
}

/** The kind's default model when it may be used, else the first that may. */
export function preferredModel(models: readonly ModelInfo[]): ModelInfo | undefined {
  return models.find((model) => model.default === true) ?? models[0];
}
