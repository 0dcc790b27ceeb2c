import type { ModelInfo } from "@proto/messages";
import { describe, expect, it } from "vitest";
import { describeCost, estimateCost, unitsOf } from "./cost";

const veo: ModelInfo = {
  id: "veo-3.1-generate",
  mediaKind: "video",
  provider: "veo",
  label: "Veo 3.1",
  parameters: {
    type: "object",
    properties: { videoDurationSeconds: { type: "integer", enum: [4, 6, 8], default: 8 } },
  },
  costUnits: 10,
  unit: "second",
};

const image: ModelInfo = {
  id: "gemini-3-pro-image",
  mediaKind: "image",
  provider: "gemini",
  label: "Gemini 3 Pro Image",
  parameters: { type: "object", properties: {} },
  costUnits: 4,
  unit: "image",
};

describe("the cost shown before sending", () => {
  it("is the model's credits per image for one image", () => {
    expect(estimateCost(image, {})).toEqual({ credits: 4, units: 1, unit: "image" });
  });

  it("is credits per second times the duration asked for", () => {
    expect(estimateCost(veo, { videoDurationSeconds: 4 })).toEqual({ credits: 40, units: 4, unit: "second" });
  });

  it("uses the schema's default duration when none is given", () => {
    expect(unitsOf(veo, {})).toBe(8);
    expect(estimateCost(veo, {}).credits).toBe(80);
  });

  it("reads an audio clip's duration and rounds away float noise", () => {
    const audio = { ...image, unit: "second", costUnits: 0.1, mediaKind: "audio" as const };
    expect(estimateCost(audio, { durationSeconds: 3 }).credits).toBe(0.3);
  });

  it("reads as a sentence", () => {
    expect(describeCost({ credits: 40, units: 4, unit: "second" })).toBe("40 credits (4 seconds)");
    expect(describeCost({ credits: 1, units: 1, unit: "image" })).toBe("1 credit (1 image)");
  });
});
