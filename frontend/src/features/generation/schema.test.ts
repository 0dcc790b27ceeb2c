import { describe, expect, it } from "vitest";
import { defaultsOf, fieldsOf, labelOf, optionsFrom } from "./schema";

const veoParameters = {
  type: "object",
  additionalProperties: false,
  properties: {
    videoTier: { type: "string", enum: ["fast", "standard"], default: "fast" },
    videoResolution: { type: "string", enum: ["720p", "1080p"], default: "720p" },
    videoDurationSeconds: { type: "integer", enum: [4, 6, 8], default: 8 },
    generateAudio: { type: "boolean", const: true, default: true },
    width: { type: "integer" },
  },
};

const imageParameters = {
  type: "object",
  properties: {
    width: { type: "integer", minimum: 64, maximum: 4096, default: 1024 },
    aspectRatio: { type: "string", enum: ["1:1", "16:9"] },
    voiceId: { type: "string" },
  },
};

describe("a model's schema as form fields", () => {
  it("makes choices of enums, a fixed toggle of a const boolean and number inputs of integers", () => {
    expect(fieldsOf(veoParameters)).toEqual([
      { name: "videoTier", label: "Video tier", kind: "choice", choices: ["fast", "standard"], required: true },
      {
        name: "videoResolution",
        label: "Video resolution",
        kind: "choice",
        choices: ["720p", "1080p"],
        required: true,
      },
      {
        name: "videoDurationSeconds",
        label: "Video duration seconds",
        kind: "choice",
        choices: [4, 6, 8],
        required: true,
      },
      { name: "generateAudio", label: "Generate audio", kind: "toggle", fixed: true },
      { name: "width", label: "Width", kind: "number", integer: true },
    ]);
  });

  it("keeps bounds, and an enum without a default may be left to the model", () => {
    expect(fieldsOf(imageParameters)).toEqual([
      { name: "width", label: "Width", kind: "number", integer: true, min: 64, max: 4096 },
      { name: "aspectRatio", label: "Aspect ratio", kind: "choice", choices: ["1:1", "16:9"], required: false },
      { name: "voiceId", label: "Voice id", kind: "text" },
    ]);
  });

  it("starts from the schema's defaults", () => {
    expect(defaultsOf(veoParameters)).toEqual({
      videoTier: "fast",
      videoResolution: "720p",
      videoDurationSeconds: "8",
      generateAudio: true,
      width: "",
    });
  });

  it("turns the form's values back into typed options, leaving empty fields out", () => {
    const fields = fieldsOf(veoParameters);
    const values = { ...defaultsOf(veoParameters), videoDurationSeconds: "4", videoTier: "standard" };
    expect(optionsFrom(fields, values)).toEqual({
      videoTier: "standard",
      videoResolution: "720p",
      videoDurationSeconds: 4,
      generateAudio: true,
    });
  });

  it("labels camelCase names in words", () => {
    expect(labelOf("videoDurationSeconds")).toBe("Video duration seconds");
  });
});
