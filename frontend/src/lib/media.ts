// Addresses of a variant's bytes, served by the gateway after it checked the caller's membership.
// An <img>, <audio> or <video> cannot send a bearer token: these rely on the access cookie.

export type MediaPart = "media" | "poster" | "thumb";

export function variantMediaUrl(spaceId: string, variantId: string, part: MediaPart = "media"): string {
  return `/api/spaces/${encodeURIComponent(spaceId)}/variants/${encodeURIComponent(variantId)}/${part}`;
}
