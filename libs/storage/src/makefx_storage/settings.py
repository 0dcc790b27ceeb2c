"""Where a service keeps objects: `MAKEFX_STORAGE_BACKEND=fs|s3` and the backend's settings."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, model_validator

from makefx_settings import ServiceSettings
from makefx_storage.fs import FsStore
from makefx_storage.s3 import S3Store
from makefx_storage.store import ObjectStore


class StorageSettings(ServiceSettings):
    """Mixed into the settings of a service that opens the object store (the media service)."""

    storage_backend: Literal["fs", "s3"] = "fs"
    # fs: a directory; defaults to <data_dir>/media.
    storage_root: Path | None = None
    # s3: MinIO, R2 or AWS. The endpoint is host:port or a URL (its scheme then decides TLS).
    s3_endpoint: str | None = None
    s3_bucket: str | None = Field(default=None, min_length=3, max_length=63)
    s3_access_key: str | None = None
    s3_secret_key: SecretStr | None = None
    s3_region: str = "us-east-1"
    s3_secure: bool = True

    @model_validator(mode="after")
    def _s3_is_complete(self) -> StorageSettings:
        if self.storage_backend == "s3":
            missing = [
                f"MAKEFX_{name.upper()}"
                for name in ("s3_endpoint", "s3_bucket", "s3_access_key", "s3_secret_key")
                if not getattr(self, name)
            ]
            if missing:
                raise ValueError(f"MAKEFX_STORAGE_BACKEND=s3 needs {', '.join(missing)}")
        return self

    @property
    def storage_directory(self) -> Path:
        return self.storage_root or self.data_dir / "media"


def open_store(settings: StorageSettings) -> ObjectStore:
    """The configured store, not yet started (call `await store.start()`)."""
    if settings.storage_backend == "fs":
        return FsStore(settings.storage_directory)
    endpoint, bucket, access_key, secret_key = (
        settings.s3_endpoint,
        settings.s3_bucket,
        settings.s3_access_key,
        settings.s3_secret_key,
    )
    if not (endpoint and bucket and access_key and secret_key):  # the validator already refused this
        raise ValueError("incomplete S3 settings")
    return S3Store(
        endpoint=endpoint,
        bucket=bucket,
        access_key=access_key,
        secret_key=secret_key.get_secret_value(),
        region=settings.s3_region,
        secure=settings.s3_secure,
    )
