// Addresses of a variant's bytes, served by the gateway after it checked the caller's membership.
// An <img>, <audio> or <video> cannot send a bearer token: these rely on the access cookie.

export type MediaPart = "media" | "poster" | "thumb";

export function variantMediaUrl(spaceId: string, variantId: string, part: MediaPart = "media"): string {
  return `/api/spaces/${encodeURIComponent(spaceId)}/variants/${encodeURIComponent(variantId)}/${part}`;
}

/**
 * Where an image preview loads from: the CDN when the space names one and the variant has
 * the key (`thumb_key`, or `image_key` for the full picture), else the gateway's route.
 */
export function imagePreviewUrl(
  spaceId: string,
  variant: { id: string; thumb_key?: string | null; image_key?: string | null },
  part: "thumb" | "media",
  cdnBaseUrl: string | null,
): string {
  const key = part === "thumb" ? variant.thumb_key : variant.image_key;
  if (cdnBaseUrl && key) return `${cdnBaseUrl.replace(/\/+$/, "")}/${key}`;
  return variantMediaUrl(spaceId, variant.id, part);
}
