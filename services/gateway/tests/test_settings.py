"""Gateway settings: token keys checked at startup, database URLs normalised, strong defaults."""

from __future__ import annotations

from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from pydantic import ValidationError

from makefx_gateway.settings import GatewaySettings

SECRET = "a-secret-that-is-at-least-32-bytes-long"


def test_missing_jwt_secret_fails_at_startup_naming_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MAKEFX_JWT_SECRET", raising=False)
    with pytest.raises(ValidationError, match="set MAKEFX_JWT_SECRET"):
        GatewaySettings()


def test_short_jwt_secret_fails_at_startup() -> None:
    with pytest.raises(ValidationError, match="at least 32 bytes"):
        GatewaySettings(jwt_secret="short")


def test_rs256_without_private_key_fails_at_startup() -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    public = key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    with pytest.raises(ValidationError, match="MAKEFX_JWT_PRIVATE_KEY"):
        GatewaySettings(jwt_algorithm="RS256", jwt_public_key=public.decode())


def test_rs256_with_a_private_key_needs_no_secret() -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    settings = GatewaySettings(jwt_algorithm="RS256", jwt_private_key=pem)
    assert settings.signing_keys().can_sign


def test_settings_read_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MAKEFX_JWT_SECRET", SECRET)
    monkeypatch.setenv("MAKEFX_DATABASE_URL", "postgresql://fx:pw@db:5432/makefx")
    settings = GatewaySettings()
    assert settings.resolved_database_url() == "postgresql+asyncpg://fx:pw@db:5432/makefx"


def test_default_database_is_sqlite_in_the_data_dir(tmp_path: Path) -> None:
    settings = GatewaySettings(jwt_secret=SECRET, data_dir=tmp_path)
    assert settings.resolved_database_url() == f"sqlite+aiosqlite:///{tmp_path.resolve()}/gateway.sqlite"


@pytest.mark.parametrize(
    ("given", "resolved"),
    [
        ("postgres://u:p@h/db", "postgresql+asyncpg://u:p@h/db"),
        ("postgresql+asyncpg://u:p@h/db", "postgresql+asyncpg://u:p@h/db"),
        ("sqlite:////var/lib/fx/gw.sqlite", "sqlite+aiosqlite:////var/lib/fx/gw.sqlite"),
    ],
)
def test_database_urls_get_the_async_driver(given: str, resolved: str) -> None:
    assert GatewaySettings(jwt_secret=SECRET, database_url=given).resolved_database_url() == resolved


def test_unsupported_database_is_refused_at_startup() -> None:
    with pytest.raises(ValidationError, match="only postgresql"):
        GatewaySettings(jwt_secret=SECRET, database_url="mysql://u:p@h/db")


def test_defaults_are_production_strength() -> None:
    settings = GatewaySettings(jwt_secret=SECRET)
    assert settings.access_token_ttl_seconds == 900
    assert settings.refresh_token_ttl_seconds == 30 * 24 * 3600
    assert settings.access_cookie_secure is True
    assert (settings.argon2_time_cost, settings.argon2_memory_cost_kib) == (3, 64 * 1024)
    assert settings.max_body_bytes == 64 * 1024


def test_no_media_cdn_is_configured_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MAKEFX_MEDIA_CDN_BASE_URL", raising=False)
    assert GatewaySettings(jwt_secret=SECRET).media_cdn_base_url is None


def test_the_media_cdn_base_url_is_read_from_the_environment_without_a_trailing_slash(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("MAKEFX_MEDIA_CDN_BASE_URL", "https://cdn.example.com/makefx/")
    assert GatewaySettings(jwt_secret=SECRET).media_cdn_base_url == "https://cdn.example.com/makefx"
    monkeypatch.setenv("MAKEFX_MEDIA_CDN_BASE_URL", "")
    assert GatewaySettings(jwt_secret=SECRET).media_cdn_base_url is None


@pytest.mark.parametrize(
    ("given", "kept"),
    [
        ("http://localhost:9000", "http://localhost:9000"),
        ("https://media.example.com/", "https://media.example.com"),
        ("https://media.example.com/public/images//", "https://media.example.com/public/images"),
    ],
)
def test_http_and_https_media_cdn_urls_are_kept(given: str, kept: str) -> None:
    assert GatewaySettings(jwt_secret=SECRET, media_cdn_base_url=given).media_cdn_base_url == kept


@pytest.mark.parametrize(
    "given",
    [
        "cdn.example.com",
        "/media",
        "ftp://cdn.example.com",
        "s3://bucket/prefix",
        "https://",
        "https://cdn.example.com/media?sig=1",
        "https://cdn.example.com/media#top",
        "javascript:alert(1)",
    ],
)
def test_a_media_cdn_that_is_not_an_http_base_url_is_refused_at_startup(given: str) -> None:
    with pytest.raises(ValidationError, match="MAKEFX_MEDIA_CDN_BASE_URL"):
        GatewaySettings(jwt_secret=SECRET, media_cdn_base_url=given)
