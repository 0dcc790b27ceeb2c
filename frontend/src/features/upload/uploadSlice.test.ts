import type { StartUpload, VariantRow } from "@proto/messages";
import { describe, expect, it } from "vitest";
import { createStore } from "zustand/vanilla";
import { RequestError } from "../../lib/errors";
import type { UploadApi } from "./api";
import { assetNameOf, mediaKindOf } from "./files";
import { type UploadSlice, createUploadSlice } from "./uploadSlice";

function fakeApi(overrides: Partial<UploadApi> = {}): UploadApi & { started: StartUpload[]; stages: number[] } {
  const started: StartUpload[] = [];
  const stages: number[] = [];
  return {
    started,
    stages,
    start: async (_spaceId, body) => {
      started.push(body);
      return { variantId: "v1", assetId: "a1", uploadUrl: "http://media/put", headers: {}, expiresAt: 0 };
    },
    put: async (_started, _file, onProgress) => {
      for (const sent of [0.5, 1]) {
        onProgress(sent);
        stages.push(sent);
      }
    },
    complete: async () => ({ id: "v1", status: "completed" }) as VariantRow,
    ...overrides,
  };
}

function uploads(api: UploadApi) {
  return createStore<UploadSlice>()((set, get) => createUploadSlice(api)(set, get));
}

const png = () => new File([new Uint8Array([137, 80, 78, 71])], "red fox.png", { type: "image/png" });

describe("an upload", () => {
  it("starts, sends its bytes with progress and completes", async () => {
    const api = fakeApi();
    const store = uploads(api);
    await store.getState().uploadFile("space-1", png(), { x: 10, y: 20 });
    expect(api.started).toEqual([
      {
        filename: "red fox.png",
        contentType: "image/png",
        sizeBytes: 4,
        mediaKind: "image",
        name: "red fox",
        position: { x: 10, y: 20 },
      },
    ]);
    expect(api.stages).toEqual([0.5, 1]);
    expect(store.getState().uploads).toMatchObject([{ stage: "done", sent: 1, assetId: "a1", error: null }]);
  });

  it("says plainly that a file is too large", async () => {
    const api = fakeApi({
      start: () => Promise.reject(new RequestError("VALIDATION_ERROR", "an image upload may be at most 10 bytes", 413)),
    });
    const store = uploads(api);
    await store.getState().uploadFile("space-1", png());
    expect(store.getState().uploads[0]).toMatchObject({
      stage: "failed",
      error: "red fox.png is too large: an image upload may be at most 10 bytes",
    });
  });

  it("says why the checked bytes were refused", async () => {
    const api = fakeApi({
      complete: () => Promise.reject(new RequestError("VALIDATION_ERROR", "red fox.png: not an image", 422)),
    });
    const store = uploads(api);
    await store.getState().uploadFile("space-1", png());
    expect(store.getState().uploads[0]?.error).toBe("red fox.png was refused: red fox.png: not an image");
  });

  it("refuses a file that is not image, audio or video before sending anything", async () => {
    const api = fakeApi();
    const store = uploads(api);
    await store.getState().uploadFile("space-1", new File(["%PDF"], "notes.pdf", { type: "application/pdf" }));
    expect(api.started).toEqual([]);
    expect(store.getState().uploads[0]).toMatchObject({ stage: "failed" });
    expect(store.getState().uploads[0]?.error).toContain("only images, audio and video");
  });
});

describe("files", () => {
  it("names the media kind from the type and the asset from the file name", () => {
    expect(mediaKindOf("video/mp4")).toBe("video");
    expect(mediaKindOf("application/pdf")).toBeNull();
    expect(assetNameOf("take 2.final.wav")).toBe("take 2.final");
  });
});
