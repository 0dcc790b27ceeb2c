"""Settings of the `makefx` runner: where the product listens and keeps its data (MAKEFX_*)."""

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class RunnerSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="MAKEFX_", extra="ignore", frozen=True)

    http_host: str = "127.0.0.1"
    http_port: int = Field(default=8000, ge=1, le=65535)
    nats_port: int = Field(default=4223, ge=1, le=65535)
    data_dir: Path = Path(".makefx")
    ready_timeout_seconds: float = Field(default=90, gt=0)
    stop_timeout_seconds: float = Field(default=15, gt=0)
    # The built browser app; `make dev` builds it first. Served by the gateway when present.
    frontend_dir: Path | None = Field(default_factory=lambda: _built_frontend(Path("frontend/dist")))


def _built_frontend(path: Path) -> Path | None:
    return path if (path / "index.html").is_file() else None
