// The upload protocol (decision 0019): start, PUT the bytes to the signed URL, then complete.
import type { StartUpload, UploadCompleted, UploadStarted, VariantRow } from "@proto/messages";
import type { ApiClient } from "../../lib/api";
import { RequestError, isErrorCode } from "../../lib/errors";

export interface UploadApi {
  start(spaceId: string, body: StartUpload): Promise<UploadStarted>;
  /** PUTs the bytes, reporting the share sent (0 to 1) as it goes. */
  put(started: UploadStarted, file: Blob, onProgress: (sent: number) => void): Promise<void>;
  complete(spaceId: string, variantId: string): Promise<VariantRow>;
}

const uploads = (spaceId: string) => `/api/spaces/${encodeURIComponent(spaceId)}/uploads`;

/** The error a byte endpoint answered with (its JSON envelope when it sent one). */
function putError(status: number, body: string): RequestError {
  let code: unknown = null;
  let message = `the upload was refused (HTTP ${status})`;
  try {
    const parsed = JSON.parse(body) as { error?: { code?: unknown; message?: unknown } };
    code = parsed.error?.code;
    if (typeof parsed.error?.message === "string") message = parsed.error.message;
  } catch {
    // Not JSON (a proxy's page): the status says enough.
  }
  if (status === 413) return new RequestError("VALIDATION_ERROR", `the file is too large: ${message}`, status);
  return new RequestError(isErrorCode(code) ? code : "UNAVAILABLE", message, status);
}

/** A PUT by XMLHttpRequest: `fetch` cannot report upload progress. */
export function putWithProgress(
  url: string,
  headers: Record<string, string>,
  file: Blob,
  onProgress: (sent: number) => void,
): Promise<void> {
  return new Promise((resolve, reject) => {
    const request = new XMLHttpRequest();
    request.open("PUT", url);
    for (const [name, value] of Object.entries(headers)) request.setRequestHeader(name, value);
    request.upload.onprogress = (event) => {
      if (event.lengthComputable && event.total > 0) onProgress(event.loaded / event.total);
    };
    request.onload = () => {
      if (request.status >= 200 && request.status < 300) {
        onProgress(1);
        resolve();
      } else {
        reject(putError(request.status, request.responseText));
      }
    };
    // No status at all: the storage did not answer, or the browser refused its answer (CORS).
    request.onerror = () =>
      reject(
        new RequestError(
          "UNAVAILABLE",
          `the bytes could not be sent to ${new URL(url, window.location.href).origin}: it did not answer, or it does not accept uploads from this page`,
        ),
      );
    request.onabort = () => reject(new RequestError("UNAVAILABLE", "the upload was cancelled"));
    request.send(file);
  });
}

export function uploadApi(client: ApiClient): UploadApi {
  return {
    start: (spaceId, body) => client.request<UploadStarted>("POST", uploads(spaceId), { body }),
    put: (started, file, onProgress) => putWithProgress(started.uploadUrl, started.headers, file, onProgress),
    complete: async (spaceId, variantId) =>
      (await client.request<UploadCompleted>("POST", `${uploads(spaceId)}/${encodeURIComponent(variantId)}/complete`))
        .variant,
  };
}
