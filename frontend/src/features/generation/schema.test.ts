import { describe, expect, it } from "vitest";
import { defaultsOf, fieldsOf, itemsOf, labelOf, optionsFrom, problemsOf } from "./schema";

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

const speechParameters = {
  type: "object",
  properties: {
    voiceId: { type: "string", minLength: 1 },
    dialogueVoiceIds: { type: "array", items: { type: "string", minLength: 1 }, minItems: 2, maxItems: 10 },
  },
};

describe("an array of strings as a list field", () => {
  it("becomes a list with its bounds and a hint saying how many values and how to type them", () => {
    expect(fieldsOf(speechParameters)).toEqual([
      { name: "voiceId", label: "Voice id", kind: "text" },
      {
        name: "dialogueVoiceIds",
        label: "Dialogue voice ids",
        kind: "list",
        hint: "2 to 10 values, separated by commas",
        minItems: 2,
        maxItems: 10,
      },
    ]);
  });

  it("puts the schema's description first in the hint", () => {
    const described = {
      properties: {
        dialogueVoiceIds: {
          type: "array",
          items: { type: "string" },
          minItems: 2,
          description: "two or more voices make a dialogue, one prompt line per turn",
        },
        tags: { type: "array", maxItems: 3 },
        seed: { type: "integer", description: "the same seed makes the same picture" },
      },
    };
    expect(fieldsOf(described)).toEqual([
      {
        name: "dialogueVoiceIds",
        label: "Dialogue voice ids",
        kind: "list",
        hint: "two or more voices make a dialogue, one prompt line per turn (at least 2 values, separated by commas)",
        minItems: 2,
      },
      { name: "tags", label: "Tags", kind: "list", hint: "at most 3 values, separated by commas", maxItems: 3 },
      { name: "seed", label: "Seed", kind: "number", integer: true, hint: "the same seed makes the same picture" },
    ]);
  });

  it("leaves an array of anything but strings a text field", () => {
    const numbers = { properties: { sizes: { type: "array", items: { type: "integer" } } } };
    expect(fieldsOf(numbers)).toEqual([{ name: "sizes", label: "Sizes", kind: "text" }]);
  });

  it("starts empty, or from a default array joined by commas", () => {
    expect(defaultsOf(speechParameters)).toEqual({ voiceId: "", dialogueVoiceIds: "" });
    const withDefault = { properties: { tags: { type: "array", items: { type: "string" }, default: ["a", "b"] } } };
    expect(defaultsOf(withDefault)).toEqual({ tags: "a, b" });
  });

  it("splits typed text at commas, trims the values and drops empty ones", () => {
    expect(itemsOf(" alice ,bob,, ,carol ,")).toEqual(["alice", "bob", "carol"]);
    expect(itemsOf(" , ")).toEqual([]);
  });

  it("sends a list as an array of its values", () => {
    const fields = fieldsOf(speechParameters);
    expect(optionsFrom(fields, { voiceId: "", dialogueVoiceIds: " voice-a, voice-b ,,voice-c " })).toEqual({
      dialogueVoiceIds: ["voice-a", "voice-b", "voice-c"],
    });
  });

  it("leaves out a list with no values, so the option is omitted", () => {
    const fields = fieldsOf(speechParameters);
    expect(optionsFrom(fields, { voiceId: "voice-a", dialogueVoiceIds: "" })).toEqual({ voiceId: "voice-a" });
    expect(optionsFrom(fields, { voiceId: "voice-a", dialogueVoiceIds: " , ," })).toEqual({ voiceId: "voice-a" });
  });

  it("finds a list with too few or too many values before it is sent, and accepts one within bounds or empty", () => {
    const fields = fieldsOf(speechParameters);
    const check = (text: string) => problemsOf(fields, { voiceId: "", dialogueVoiceIds: text });
    expect(check("voice-a")).toEqual([
      "Dialogue voice ids: give at least 2 values separated by commas (1 given), or none.",
    ]);
    const eleven = Array.from({ length: 11 }, (_, i) => `voice-${i}`).join(",");
    expect(check(eleven)).toEqual(["Dialogue voice ids: give at most 10 values (11 given)."]);
    expect(check("voice-a, voice-b")).toEqual([]);
    expect(check("")).toEqual([]);
    expect(check("voice-a, ,")).toHaveLength(1);
  });
});
