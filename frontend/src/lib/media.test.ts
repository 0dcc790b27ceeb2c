import { describe, expect, it } from "vitest";
import { imagePreviewUrl, variantMediaUrl } from "./media";

const variant = { id: "v 1", thumb_key: "spaces/s1/v1/thumb.webp", image_key: "spaces/s1/v1/image.png" };

describe("imagePreviewUrl", () => {
  it("loads from the CDN when the space names one and the variant has the key of that part", () => {
    expect(imagePreviewUrl("s1", variant, "thumb", "https://cdn.example.com/media")).toBe(
      "https://cdn.example.com/media/spaces/s1/v1/thumb.webp",
    );
    expect(imagePreviewUrl("s1", variant, "media", "https://cdn.example.com/media")).toBe(
      "https://cdn.example.com/media/spaces/s1/v1/image.png",
    );
  });

  it("joins the CDN base and the key with one slash, however many the base ends with", () => {
    expect(imagePreviewUrl("s1", variant, "thumb", "https://cdn.example.com//")).toBe(
      "https://cdn.example.com/spaces/s1/v1/thumb.webp",
    );
  });

  it("loads from the gateway when no CDN is set", () => {
    expect(imagePreviewUrl("s1", variant, "thumb", null)).toBe("/api/spaces/s1/variants/v%201/thumb");
    expect(imagePreviewUrl("s1", variant, "media", "")).toBe("/api/spaces/s1/variants/v%201/media");
  });

  it("loads from the gateway when the variant has no key for that part, even with a CDN", () => {
    const noThumb = { id: "v2", thumb_key: null, image_key: "spaces/s1/v2/image.png" };
    expect(imagePreviewUrl("s1", noThumb, "thumb", "https://cdn.example.com")).toBe(
      variantMediaUrl("s1", "v2", "thumb"),
    );
    expect(imagePreviewUrl("s1", { id: "v3" }, "media", "https://cdn.example.com")).toBe(
      "/api/spaces/s1/variants/v3/media",
    );
  });
});
