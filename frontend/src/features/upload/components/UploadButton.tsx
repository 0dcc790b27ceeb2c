import { useRef } from "react";

export const ACCEPTED = "image/*,audio/*,video/*";

/** Picks files from the computer; the same as dropping them on the canvas. */
export function UploadButton({ disabled, onFiles }: { disabled: boolean; onFiles: (files: File[]) => void }) {
  const input = useRef<HTMLInputElement>(null);
  return (
    <span className="upload-button">
      <input
        ref={input}
        type="file"
        multiple
        accept={ACCEPTED}
        aria-label="Upload files"
        hidden
        disabled={disabled}
        onChange={(event) => {
          const files = [...(event.target.files ?? [])];
          event.target.value = "";
          if (files.length > 0) onFiles(files);
        }}
      />
      <button type="button" disabled={disabled} onClick={() => input.current?.click()}>
        Upload…
      </button>
    </span>
  );
}
