"""Settings of the billing service (environment: MAKEFX_*, plus Polar's usual POLAR_ACCESS_TOKEN)."""

from __future__ import annotations

from typing import Literal, Self

from pydantic import AliasChoices, Field, SecretStr, model_validator
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from makefx_settings import ServiceSettings

_ASYNC_DRIVERS = {
    "postgres": "postgresql+asyncpg",
    "postgresql": "postgresql+asyncpg",
    "postgresql+asyncpg": "postgresql+asyncpg",
    "sqlite": "sqlite+aiosqlite",
    "sqlite+aiosqlite": "sqlite+aiosqlite",
}


class BillingSettings(ServiceSettings):
    service_name: str = "billing"
    http_port: int = 8080

    # The usage ledger. Unset: SQLite at <data_dir>/billing.sqlite; `postgresql://…` in production.
    billing_database_url: str | None = None

    # Polar. Without an access token the sync is off: the ledger still records and answers.
    polar_access_token: SecretStr | None = Field(
        default=None,
        validation_alias=AliasChoices("polar_access_token", "MAKEFX_POLAR_ACCESS_TOKEN", "POLAR_ACCESS_TOKEN"),
    )
    polar_environment: Literal["production", "sandbox"] = "production"
    # Overrides the environment's URL (tests point it at a fake Polar).
    polar_server_url: str | None = None
    # Only for user/personal tokens; an organization access token already names its organization.
    polar_organization_id: str | None = None
    polar_sync_interval_seconds: float = Field(default=300, gt=0)
    polar_batch_size: int = Field(default=100, ge=1, le=1000)
    polar_timeout_seconds: float = Field(default=10, gt=0)
    # After a failed sync: wait initial, then twice as long each time, up to max (plus jitter).
    polar_retry_initial_seconds: float = Field(default=1, gt=0)
    polar_retry_max_seconds: float = Field(default=300, gt=0)

    # The durable JetStream consumer of USAGE.
    usage_consumer_name: str = "billing-ledger"
    usage_fetch_batch: int = Field(default=64, ge=1)
    usage_ack_wait_seconds: float = Field(default=30, gt=0)
    usage_max_deliver: int = Field(default=20, ge=1)

    @model_validator(mode="after")
    def _database_url_is_supported(self) -> Self:
        self.resolved_database_url()
        return self

    @property
    def polar_enabled(self) -> bool:
        return self.polar_access_token is not None and bool(self.polar_access_token.get_secret_value())

    def resolved_database_url(self) -> str:
        """The SQLAlchemy async URL of the ledger."""
        if not self.billing_database_url:
            return f"sqlite+aiosqlite:///{(self.data_dir / 'billing.sqlite').resolve()}"
        try:
            url = make_url(self.billing_database_url)
        except ArgumentError:
            raise ValueError("MAKEFX_BILLING_DATABASE_URL is not a database URL") from None
        driver = _ASYNC_DRIVERS.get(url.drivername)
        if driver is None:
            raise ValueError(
                f"MAKEFX_BILLING_DATABASE_URL uses {url.drivername!r}: "
                "only postgresql:// (asyncpg) and sqlite:// are supported"
            )
        return url.set(drivername=driver).render_as_string(hide_password=False)
