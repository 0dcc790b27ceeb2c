"""The media service's settings: a signing secret where URLs go through the service, limits per kind."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from makefx_contracts.rows import MediaKind
from makefx_media.settings import MediaSettings

SECRET = "s" * 32


def test_the_fs_backend_needs_a_signing_secret(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="MAKEFX_MEDIA_SIGNING_SECRET"):
        MediaSettings(data_dir=tmp_path)
    with pytest.raises(ValidationError):
        MediaSettings(data_dir=tmp_path, media_signing_secret="too short")


def test_s3_with_direct_urls_signs_without_a_secret_of_ours() -> None:
    settings = MediaSettings(
        storage_backend="s3", s3_endpoint="minio:9000", s3_bucket="media", s3_access_key="a", s3_secret_key="b"
    )
    assert settings.media_signing_secret is None
    with pytest.raises(ValidationError):
        MediaSettings(
            storage_backend="s3",
            s3_endpoint="minio:9000",
            s3_bucket="media",
            s3_access_key="a",
            s3_secret_key="b",
            media_direct_urls=False,
        )


def test_defaults(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MAKEFX_MEDIA_SIGNING_SECRET", SECRET)
    monkeypatch.setenv("MAKEFX_MAX_VIDEO_BYTES", "1000")
    settings = MediaSettings(data_dir=tmp_path, http_port=9000)
    assert settings.public_url == "http://127.0.0.1:9000"
    assert settings.storage_directory == tmp_path / "media"
    assert settings.work_directory == tmp_path / "media-work"
    assert settings.max_bytes(MediaKind.VIDEO) == 1000
    assert settings.max_upload_bytes == settings.max_audio_bytes
    assert settings.thumbnail_max_side == 512
