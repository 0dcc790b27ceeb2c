"""`MAKEFX_STORAGE_*` and `MAKEFX_S3_*` choose and configure the store."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from makefx_storage import FsStore, S3Store, StorageSettings, open_store


def test_the_default_is_a_directory_under_the_data_dir(tmp_path: Path) -> None:
    store = open_store(StorageSettings(data_dir=tmp_path))
    assert isinstance(store, FsStore)
    assert store.root == (tmp_path / "media").absolute()


def test_s3_is_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in {
        "MAKEFX_STORAGE_BACKEND": "s3",
        "MAKEFX_S3_ENDPOINT": "https://account.r2.cloudflarestorage.com",
        "MAKEFX_S3_BUCKET": "makefx-media",
        "MAKEFX_S3_ACCESS_KEY": "key",
        "MAKEFX_S3_SECRET_KEY": "hunter2-secret-value",
        "MAKEFX_S3_REGION": "auto",
    }.items():
        monkeypatch.setenv(name, value)
    settings = StorageSettings()
    assert "hunter2" not in repr(settings)
    store = open_store(settings)
    assert isinstance(store, S3Store)
    assert (store.endpoint, store.bucket, store.region) == ("account.r2.cloudflarestorage.com", "makefx-media", "auto")


def test_s3_without_its_credentials_is_refused_at_startup() -> None:
    with pytest.raises(ValidationError, match="MAKEFX_S3_ACCESS_KEY"):
        StorageSettings(storage_backend="s3", s3_endpoint="minio:9000", s3_bucket="media")
