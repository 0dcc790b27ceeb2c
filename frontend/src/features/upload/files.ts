// Which files may be uploaded, and how a refusal reads to a person.
import type { MediaKind } from "@proto/messages";
import { RequestError, describeError } from "../../lib/errors";

const KINDS: readonly MediaKind[] = ["image", "audio", "video"];

/** The media kind a file's type names; null for anything else (a PDF, a file the browser cannot type). */
export function mediaKindOf(contentType: string): MediaKind | null {
  const prefix = contentType.toLowerCase().split("/")[0];
  return KINDS.find((kind) => kind === prefix) ?? null;
}

/** A file's name without its extension: the new asset's name. */
export function assetNameOf(filename: string): string {
  const dot = filename.lastIndexOf(".");
  const base = dot > 0 ? filename.slice(0, dot) : filename;
  return base.trim().slice(0, 200) || "upload";
}

/** What went wrong, in words: too large (413) and not a media file (415/422) are said plainly. */
export function describeUploadError(filename: string, error: unknown): string {
  if (error instanceof RequestError) {
    if (error.status === 413) return `${filename} is too large: ${error.message}`;
    if (error.status === 415 || error.status === 422) return `${filename} was refused: ${error.message}`;
  }
  return `${filename} could not be uploaded: ${describeError(error)}`;
}
