"""Settings of the media service (environment: MAKEFX_*): the store, URL signing, limits, derived artifacts."""

from __future__ import annotations

from pathlib import Path
from typing import Self

from pydantic import Field, SecretStr, model_validator

from makefx_contracts.rows import MediaKind
from makefx_storage import StorageSettings

MiB = 1024 * 1024


class MediaSettings(StorageSettings):
    service_name: str = "media"
    http_port: int = 8080

    # Signed URLs to this service's own byte endpoint (/objects/…), used when the store
    # cannot sign (the fs backend) or `media_direct_urls` is off. Every replica shares it.
    media_signing_secret: SecretStr | None = Field(default=None, min_length=32)
    # The base URL browsers and workers reach this service at; default http://<http_host>:<http_port>.
    media_public_url: str | None = None
    # With an S3 backend, sign URLs straight to the bucket (bytes bypass this service).
    media_direct_urls: bool = True
    # Pages allowed to GET/PUT signed URLs from a browser (CORS). The signature in the URL is
    # the only credential and no cookie is ever accepted, so any origin is safe by default.
    media_cors_origins: list[str] = Field(default_factory=lambda: ["*"])

    # Largest file per media kind, and largest upload to a staging key.
    max_image_bytes: int = Field(default=30 * MiB, gt=0)
    max_audio_bytes: int = Field(default=100 * MiB, gt=0)
    max_video_bytes: int = Field(default=500 * MiB, gt=0)
    # Pictures (and video frames) larger than this are refused before decoding (decompression bombs).
    max_image_pixels: int = Field(default=64_000_000, gt=0)

    thumbnail_max_side: int = Field(default=512, ge=16, le=4096)
    poster_max_side: int = Field(default=1280, ge=16, le=8192)
    poster_at_seconds: float = Field(default=1.0, ge=0)
    webp_quality: int = Field(default=80, ge=1, le=100)

    # Decoding and encoding run in threads; at most this many media files at once.
    processing_concurrency: int = Field(default=2, ge=1)
    # Where objects from a remote store are copied to be decoded; default <data_dir>/media-work.
    media_work_dir: Path | None = None

    @model_validator(mode="after")
    def _urls_can_be_signed(self) -> Self:
        if self.media_signing_secret is None and (self.storage_backend == "fs" or not self.media_direct_urls):
            raise ValueError(
                "MAKEFX_MEDIA_SIGNING_SECRET (32+ characters) is needed to sign URLs to the media service's "
                "byte endpoint (the fs backend, or MAKEFX_MEDIA_DIRECT_URLS=false)"
            )
        return self

    def max_bytes(self, kind: MediaKind) -> int:
        return {
            MediaKind.IMAGE: self.max_image_bytes,
            MediaKind.AUDIO: self.max_audio_bytes,
            MediaKind.VIDEO: self.max_video_bytes,
        }[kind]

    @property
    def max_upload_bytes(self) -> int:
        return max(self.max_image_bytes, self.max_audio_bytes, self.max_video_bytes)

    @property
    def public_url(self) -> str:
        return (self.media_public_url or f"http://{self.http_host}:{self.http_port}").rstrip("/")

    @property
    def work_directory(self) -> Path:
        return self.media_work_dir or self.data_dir / "media-work"
