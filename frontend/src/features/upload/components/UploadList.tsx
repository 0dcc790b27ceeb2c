import type { Upload } from "../uploadSlice";

const STAGE_LABEL = {
  starting: "starting",
  sending: "sending",
  checking: "checking the file",
  done: "uploaded",
  failed: "failed",
} as const;

/** The uploads of this page: a progress bar while the bytes go, the reason when one is refused. */
export function UploadList({ uploads, onDismiss }: { uploads: readonly Upload[]; onDismiss: (id: string) => void }) {
  if (uploads.length === 0) return null;
  return (
    <ul className="upload-list" aria-label="Uploads">
      {uploads.map((upload) => (
        <li key={upload.id} className={`upload stage-${upload.stage}`} data-testid="upload" data-stage={upload.stage}>
          <span className="upload-name">{upload.filename}</span>
          {upload.stage === "failed" ? (
            <span className="form-error" role="alert">
              {upload.error}
            </span>
          ) : (
            <>
              <progress max={100} value={Math.round(upload.sent * 100)} aria-label={`${upload.filename} sent`} />
              <span className="upload-stage">{STAGE_LABEL[upload.stage]}</span>
            </>
          )}
          {(upload.stage === "done" || upload.stage === "failed") && (
            <button
              type="button"
              className="link-button"
              aria-label={`Dismiss ${upload.filename}`}
              onClick={() => onDismiss(upload.id)}
            >
              ×
            </button>
          )}
        </li>
      ))}
    </ul>
  );
}
