"""Settings of the gateway (environment: MAKEFX_*): database, tokens, cookies, limits, media, password cost."""

from __future__ import annotations

from pathlib import Path
from typing import Literal, Self
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, field_validator, model_validator
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from makefx_auth import KeyConfigError, SigningKeys
from makefx_contracts.rows import MediaKind
from makefx_settings import ServiceSettings

_ASYNC_DRIVERS = {
    "postgres": "postgresql+asyncpg",
    "postgresql": "postgresql+asyncpg",
    "postgresql+asyncpg": "postgresql+asyncpg",
    "sqlite": "sqlite+aiosqlite",
    "sqlite+aiosqlite": "sqlite+aiosqlite",
}


class GatewaySettings(ServiceSettings):
    service_name: str = "gateway"
    http_port: int = 8000

    # The global database. Unset: SQLite at <data_dir>/gateway.sqlite. `postgresql://…`
    # (or `postgres://…`) is normalised to the asyncpg driver.
    database_url: str | None = None

    # Access tokens: HS256 with `jwt_secret` (>= 32 bytes), or RS256 with a key pair
    # given as PEM strings or PEM file paths (the public key is derived when omitted).
    jwt_algorithm: Literal["HS256", "RS256"] = "HS256"
    jwt_secret: SecretStr | None = None
    jwt_private_key: SecretStr | None = None
    jwt_public_key: str | None = None
    jwt_issuer: str = "makefx"
    access_token_ttl_seconds: int = Field(default=900, gt=0)
    refresh_token_ttl_seconds: int = Field(default=30 * 24 * 3600, gt=0)

    # The browser's alternative to `Authorization: Bearer`: an HttpOnly cookie.
    access_cookie_name: str = "makefx_access"
    access_cookie_secure: bool = True

    # Login attempts per sliding window, counted in this gateway process only.
    login_attempts_per_email: int = Field(default=10, ge=1)
    login_attempts_per_address: int = Field(default=50, ge=1)
    login_window_seconds: float = Field(default=60, gt=0)

    # The built browser app (`frontend/dist`), served at `/` when set.
    frontend_dir: Path | None = None

    # Frames a socket may have waiting before it is closed as too slow (close code 4008).
    socket_outbox_limit: int = Field(default=1024, ge=16)

    # Largest request body the JSON API reads.
    max_body_bytes: int = Field(default=64 * 1024, ge=1024)

    # Uploads: the largest file per media kind (refused up front by `sizeBytes`; the media
    # service enforces its own limits on the bytes), and how long an upload URL lives.
    max_image_bytes: int = Field(default=30 * 1024 * 1024, gt=0)
    max_audio_bytes: int = Field(default=100 * 1024 * 1024, gt=0)
    max_video_bytes: int = Field(default=500 * 1024 * 1024, gt=0)
    upload_url_seconds: int = Field(default=900, ge=1, le=7 * 24 * 3600)
    # How long the media service may take to check and file an upload (thumbnails, posters).
    ingest_timeout_seconds: float = Field(default=120, gt=0)
    # Serving: the lifetime of the signed GET URLs the gateway reads through (or redirects to).
    media_url_seconds: int = Field(default=300, ge=1, le=7 * 24 * 3600)
    # Answer 307 to the signed URL (an S3 store signing directly) instead of streaming the bytes.
    media_redirect: bool = False
    # A public CDN in front of the media bucket: `sync:state` names it, and browsers load image
    # previews from `<this>/<key>` instead of through the gateway. Unset: everything via the API.
    media_cdn_base_url: str | None = None

    # argon2id cost. The defaults are argon2-cffi's (RFC 9106 "low memory" profile);
    # only tests lower them.
    argon2_time_cost: int = Field(default=3, ge=1)
    argon2_memory_cost_kib: int = Field(default=64 * 1024, ge=8)
    argon2_parallelism: int = Field(default=4, ge=1)

    @field_validator("media_cdn_base_url")
    @classmethod
    def _cdn_is_a_base_url(cls, value: str | None) -> str | None:
        """An absolute http(s) URL without a trailing slash, so clients append `/<key>` as it is."""
        if value is None or not value.strip():
            return None
        value = value.strip()
        try:
            parts = urlsplit(value)
        except ValueError:
            parts = None
        if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"MAKEFX_MEDIA_CDN_BASE_URL must be an http(s) URL, not {value!r}")
        if parts.query or parts.fragment:
            raise ValueError("MAKEFX_MEDIA_CDN_BASE_URL must have no query or fragment: keys are appended to it")
        return value.rstrip("/")

    @model_validator(mode="after")
    def _tokens_can_be_signed(self) -> Self:
        """Fail at startup, naming the variable to set, rather than on the first login."""
        try:
            keys = self.signing_keys()
        except KeyConfigError as error:
            if self.jwt_algorithm == "HS256":
                hint = "set MAKEFX_JWT_SECRET to a random string of at least 32 bytes"
            else:
                hint = "set MAKEFX_JWT_PRIVATE_KEY to an RSA private key (PEM text or the path of a PEM file)"
            raise ValueError(f"access tokens cannot be signed: {error}; {hint}") from None
        if not keys.can_sign:
            raise ValueError(
                "access tokens cannot be signed: the gateway issues tokens, so RS256 needs "
                "MAKEFX_JWT_PRIVATE_KEY, not only MAKEFX_JWT_PUBLIC_KEY"
            )
        return self

    @model_validator(mode="after")
    def _frontend_is_built(self) -> Self:
        if self.frontend_dir is not None and not (self.frontend_dir / "index.html").is_file():
            raise ValueError(f"MAKEFX_FRONTEND_DIR={self.frontend_dir} has no index.html: run `make frontend`")
        return self

    @model_validator(mode="after")
    def _database_url_is_supported(self) -> Self:
        self.resolved_database_url()
        return self

    def max_upload_bytes(self, kind: MediaKind) -> int:
        return {
            MediaKind.IMAGE: self.max_image_bytes,
            MediaKind.AUDIO: self.max_audio_bytes,
            MediaKind.VIDEO: self.max_video_bytes,
        }[kind]

    def signing_keys(self) -> SigningKeys:
        return SigningKeys.from_config(
            self.jwt_algorithm,
            secret=self.jwt_secret.get_secret_value() if self.jwt_secret else None,
            private_key=self.jwt_private_key.get_secret_value() if self.jwt_private_key else None,
            public_key=self.jwt_public_key,
        )

    def resolved_database_url(self) -> str:
        """The SQLAlchemy async URL of the global database."""
        if not self.database_url:
            return f"sqlite+aiosqlite:///{(self.data_dir / 'gateway.sqlite').resolve()}"
        try:
            url = make_url(self.database_url)
        except ArgumentError:
            raise ValueError("MAKEFX_DATABASE_URL is not a database URL") from None
        driver = _ASYNC_DRIVERS.get(url.drivername)
        if driver is None:
            raise ValueError(
                f"MAKEFX_DATABASE_URL uses {url.drivername!r}: only postgresql:// (asyncpg) and sqlite:// are supported"
            )
        return url.set(drivername=driver).render_as_string(hide_password=False)
