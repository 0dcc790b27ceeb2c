"""Settings every Make Effects process shares, read from `MAKEFX_*` environment variables.

Each service subclasses `ServiceSettings` in its own `settings.py`; nothing else reads
the environment.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class ServiceSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="MAKEFX_", extra="ignore", frozen=True)

    service_name: str = "makefx"
    nats_url: str = "nats://127.0.0.1:4223"
    nats_user: str | None = None
    nats_password: str | None = None
    data_dir: Path = Path(".makefx")
    http_host: str = "127.0.0.1"
    http_port: int = Field(default=8000, ge=0, le=65535)
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    log_format: Literal["json", "text"] = "json"
    request_timeout_seconds: float = Field(default=5.0, gt=0)
    # JetStream durability: "always" fsyncs every write (zero loss window, slower);
    # the default follows the server's sync interval. See docs/decisions/0003.
    stream_replicas: int = Field(default=1, ge=1, le=5)
    space_events_max_age_days: float = Field(default=30, gt=0)
    space_events_max_bytes: int = Field(default=10 * 1024**3, gt=0)
    # A space's lease is valid while its holder heartbeats; a dead replica's spaces move
    # after at most this long (docs/decisions/0007).
    replica_heartbeat_ttl_seconds: float = Field(default=3, gt=0)
