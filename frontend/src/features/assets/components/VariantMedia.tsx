import type { MediaKind, VariantRow } from "@proto/messages";
import { useState } from "react";
import { imagePreviewUrl, variantMediaUrl } from "../../../lib/media";

const WORKING = new Set(["pending", "processing", "uploading"]);

/** A variant as the user sees it: a spinner while it is being made, the error when it failed, else the media. */
export function VariantMedia({
  spaceId,
  variant,
  kind,
  large = false,
  progress = null,
  cdnBaseUrl = null,
}: {
  spaceId: string;
  variant: VariantRow;
  kind: MediaKind;
  large?: boolean;
  /** how far its job is (0 to 1), when the provider reports it (video) */
  progress?: number | null;
  /** where image previews load from, when the space names a CDN */
  cdnBaseUrl?: string | null;
}) {
  const [broken, setBroken] = useState(false);
  const status = variant.status ?? "pending";
  if (WORKING.has(status)) {
    return (
      <div className="variant-media working" data-status={status}>
        <span className="spinner" aria-hidden="true" /> {status}
        {progress !== null && (
          <progress
            className="job-progress"
            max={100}
            value={Math.round(progress * 100)}
            aria-label={`${Math.round(progress * 100)}% done`}
          />
        )}
      </div>
    );
  }
  if (status === "failed") {
    return (
      <div className="variant-media failed" data-status="failed" role="alert">
        <strong>failed</strong>
        <span className="error-text">{variant.error_message ?? "no reason was given"}</span>
      </div>
    );
  }
  const src =
    kind === "image" ? imagePreviewUrl(spaceId, variant, "media", cdnBaseUrl) : variantMediaUrl(spaceId, variant.id);
  if (broken) {
    return (
      <div className="variant-media placeholder" data-status="completed">
        {kind} not available
      </div>
    );
  }
  if (kind === "audio") {
    return (
      <audio
        className="variant-media"
        data-status="completed"
        controls
        preload="none"
        src={src}
        onError={() => setBroken(true)}
      />
    );
  }
  if (kind === "video") {
    return (
      <video
        className="variant-media"
        data-status="completed"
        controls={large}
        preload="none"
        src={src}
        poster={variantMediaUrl(spaceId, variant.id, "poster")}
        onError={() => setBroken(true)}
      />
    );
  }
  return (
    <img
      className="variant-media"
      data-status="completed"
      src={large ? src : imagePreviewUrl(spaceId, variant, "thumb", cdnBaseUrl)}
      alt={`variant ${variant.id}`}
      onError={(event) => {
        // The thumbnail may not exist (yet): fall back to the full picture, then give up.
        const img = event.currentTarget;
        if (!large && img.src !== new URL(src, window.location.href).href) img.src = src;
        else setBroken(true);
      }}
    />
  );
}
