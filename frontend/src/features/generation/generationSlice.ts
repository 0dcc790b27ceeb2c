// The generation part of the store: the model registry and the progress of running jobs.
import type { JobProgress, ModelInfo } from "@proto/messages";
import { describeError } from "../../lib/errors";
import type { SliceCreator } from "../../lib/slice";
import type { GenerationApi } from "./api";

export interface VariantProgress {
  attempt: number;
  /** done so far, 0 to 1; null when the provider does not say */
  progress: number | null;
}

export interface GenerationSlice {
  models: readonly ModelInfo[] | null;
  modelsError: string | null;
  /** the latest progress of each running variant, by variant id */
  progress: Readonly<Record<string, VariantProgress>>;
  loadModels(): Promise<void>;
  /** `job:progress` is ephemeral (no seq): a report for an older attempt than one already seen is stale. */
  receiveProgress(report: JobProgress): void;
}

export function nextProgress(
  progress: Readonly<Record<string, VariantProgress>>,
  report: JobProgress,
): Readonly<Record<string, VariantProgress>> {
  const known = progress[report.variantId];
  if (known !== undefined && known.attempt > report.attempt) return progress;
  if (report.status === "completed" || report.status === "failed") {
    const rest = { ...progress };
    delete rest[report.variantId];
    return rest;
  }
  return { ...progress, [report.variantId]: { attempt: report.attempt, progress: report.progress ?? null } };
}

export const createGenerationSlice =
  (api: GenerationApi): SliceCreator<GenerationSlice> =>
  (set, get) => ({
    models: null,
    modelsError: null,
    progress: {},

    async loadModels() {
      if (get().models !== null) return;
      try {
        set({ models: await api.models(), modelsError: null });
      } catch (error) {
        set({ modelsError: describeError(error) });
      }
    },

    receiveProgress(report) {
      const next = nextProgress(get().progress, report);
      if (next !== get().progress) set({ progress: next });
    },
  });
