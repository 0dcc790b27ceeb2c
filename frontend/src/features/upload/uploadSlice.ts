// The uploads of this page: each file from its start to its completion (or its refusal), with progress.
import type { Position } from "@proto/messages";
import type { SliceCreator } from "../../lib/slice";
import type { UploadApi } from "./api";
import { assetNameOf, describeUploadError, mediaKindOf } from "./files";

export type UploadStage = "starting" | "sending" | "checking" | "done" | "failed";

export interface Upload {
  id: string;
  filename: string;
  stage: UploadStage;
  /** share of the bytes sent, 0 to 1 */
  sent: number;
  error: string | null;
  assetId: string | null;
}

export interface UploadSlice {
  uploads: readonly Upload[];
  /** Uploads one file as a new asset; resolves once it is completed or refused (the error is kept on it). */
  uploadFile(spaceId: string, file: File, position?: Position): Promise<void>;
  dismissUpload(id: string): void;
}

export const createUploadSlice =
  (api: UploadApi): SliceCreator<UploadSlice> =>
  (set, get) => {
    let nextId = 1;
    const update = (id: string, changes: Partial<Upload>) =>
      set({ uploads: get().uploads.map((upload) => (upload.id === id ? { ...upload, ...changes } : upload)) });
    return {
      uploads: [],

      async uploadFile(spaceId, file, position) {
        const id = `upload-${nextId++}`;
        const entry: Upload = { id, filename: file.name, stage: "starting", sent: 0, error: null, assetId: null };
        set({ uploads: [...get().uploads, entry] });
        const mediaKind = mediaKindOf(file.type);
        if (mediaKind === null) {
          const type = file.type || "an unknown type";
          update(id, {
            stage: "failed",
            error: `${file.name} is ${type}: only images, audio and video can be uploaded`,
          });
          return;
        }
        try {
          const started = await api.start(spaceId, {
            filename: file.name,
            contentType: file.type,
            sizeBytes: file.size,
            mediaKind,
            name: assetNameOf(file.name),
            ...(position !== undefined && { position }),
          });
          update(id, { stage: "sending", assetId: started.assetId });
          await api.put(started, file, (sent) => update(id, { sent }));
          update(id, { stage: "checking", sent: 1 });
          await api.complete(spaceId, started.variantId);
          update(id, { stage: "done" });
        } catch (error) {
          update(id, { stage: "failed", error: describeUploadError(file.name, error) });
        }
      },

      dismissUpload(id) {
        set({ uploads: get().uploads.filter((upload) => upload.id !== id) });
      },
    };
  };
