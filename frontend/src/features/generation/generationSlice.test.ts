import type { JobProgress, ModelInfo } from "@proto/messages";
import { describe, expect, it } from "vitest";
import { createStore } from "zustand/vanilla";
import { type GenerationSlice, createGenerationSlice, nextProgress } from "./generationSlice";
import { modelsFor, preferredModel } from "./models";

function report(attempt: number, status: JobProgress["status"], progress: number | null): JobProgress {
  return { type: "job:progress", spaceId: "s", jobId: `v:${attempt}`, variantId: "v", attempt, status, progress };
}

const model = (id: string, fields: Partial<ModelInfo>): ModelInfo => ({
  id,
  mediaKind: "audio",
  provider: "x",
  label: id,
  parameters: {},
  costUnits: 1,
  unit: "second",
  ...fields,
});

describe("job progress", () => {
  it("keeps the latest report of the running attempt and forgets it once the job ends", () => {
    let progress = nextProgress({}, report(1, "processing", 0.25));
    progress = nextProgress(progress, report(1, "processing", 0.5));
    expect(progress["v"]).toEqual({ attempt: 1, progress: 0.5 });
    expect(nextProgress(progress, report(1, "completed", 1))).toEqual({});
  });

  it("ignores a report of an older attempt", () => {
    const progress = nextProgress({}, report(2, "processing", 0.1));
    expect(nextProgress(progress, report(1, "processing", 0.9))).toBe(progress);
  });
});

describe("the model registry", () => {
  it("is read once, and a failure is kept to show", async () => {
    let calls = 0;
    const store = createStore<GenerationSlice>()((set, get) =>
      createGenerationSlice({
        models: async () => {
          calls += 1;
          return [model("elevenlabs", { default: true })];
        },
      })(set, get),
    );
    await store.getState().loadModels();
    await store.getState().loadModels();
    expect(calls).toBe(1);
    expect(store.getState().models?.map((m) => m.id)).toEqual(["elevenlabs"]);

    const failing = createStore<GenerationSlice>()((set, get) =>
      createGenerationSlice({ models: () => Promise.reject(new Error("no gateway")) })(set, get),
    );
    await failing.getState().loadModels();
    expect(failing.getState().modelsError).toBe("no gateway");
  });

  it("offers only the models of the kind and asset type, the default first choice", () => {
    const models = [
      model("elevenlabs", { default: true }),
      model("lyria-002", { assetTypes: ["music"] }),
      model("gemini", { mediaKind: "image", default: true }),
    ];
    expect(modelsFor(models, "audio", "sfx").map((m) => m.id)).toEqual(["elevenlabs"]);
    expect(modelsFor(models, "audio", "music").map((m) => m.id)).toEqual(["elevenlabs", "lyria-002"]);
    expect(preferredModel(modelsFor(models, "audio", "music"))?.id).toBe("elevenlabs");
  });
});
