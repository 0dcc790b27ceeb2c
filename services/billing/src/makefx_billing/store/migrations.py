"""Versioned schema migrations of the ledger, applied in code on start (as the gateway's are).

Each migration is a function of a synchronous connection, with its table shapes frozen as
they were at that version. `schema_version` records what was applied. One transaction; on
PostgreSQL an advisory lock makes concurrent billing replicas wait for the first one.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    Connection,
    DateTime,
    Float,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    func,
    insert,
    select,
    text,
)
from sqlalchemy.ext.asyncio import AsyncEngine


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    apply: Callable[[Connection], None]


class SchemaTooNew(RuntimeError):
    """The ledger was migrated by a newer billing service than this one."""


# An arbitrary constant: the PostgreSQL advisory lock id of this runner (not the gateway's).
_LOCK_KEY = 0x6D616B6566780002

_schema = MetaData()
schema_version = Table(
    "schema_version",
    _schema,
    Column("version", Integer, primary_key=True, autoincrement=False),
    Column("name", String(200), nullable=False),
    Column("applied_at", DateTime(timezone=True), nullable=False),
)


def _v1_usage_ledger(connection: Connection) -> None:
    metadata = MetaData()
    Table(
        "usage_events",
        metadata,
        Column("id", String(200), primary_key=True),
        Column("user_id", String(128), nullable=False),
        Column("space_id", String(128), nullable=False),
        Column("kind", String(32), nullable=False),
        Column("quantity", Float, nullable=False),
        Column("unit", String(32), nullable=False),
        Column("credits", Float, nullable=False),
        Column("model", String(128), nullable=False),
        Column("provider", String(64), nullable=False),
        Column("at", BigInteger, nullable=False),
        Column("recorded_at", BigInteger, nullable=False),
        Column("synced_at", BigInteger, nullable=True),
        Index("ix_usage_events_user_at", "user_id", "at"),
        Index("ix_usage_events_space_at", "space_id", "at"),
        # The sync reads the oldest unsynced rows first.
        Index("ix_usage_events_unsynced", "synced_at", "recorded_at"),
    )
    Table(
        "space_budgets",
        metadata,
        Column("space_id", String(128), primary_key=True),
        Column("monthly_credits", Float, nullable=False),
        Column("updated_at", BigInteger, nullable=False),
    )
    metadata.create_all(connection)


MIGRATIONS: tuple[Migration, ...] = (Migration(1, "usage ledger and space budgets", _v1_usage_ledger),)


async def migrate(
    engine: AsyncEngine,
    migrations: Sequence[Migration] = MIGRATIONS,
    *,
    execution_options: Mapping[str, Any] | None = None,
) -> int:
    """Apply the migrations the ledger lacks; return the schema version it is at."""
    async with engine.connect() as connection:
        if execution_options:
            await connection.execution_options(**execution_options)
        async with connection.begin():
            return await connection.run_sync(_apply, migrations)


def _apply(connection: Connection, migrations: Sequence[Migration]) -> int:
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _LOCK_KEY})
    schema_version.create(connection, checkfirst=True)
    current = connection.execute(select(func.max(schema_version.c.version))).scalar() or 0
    latest = max((migration.version for migration in migrations), default=0)
    if current > latest:
        raise SchemaTooNew(
            f"the ledger is at schema version {current} but this billing service knows only up to {latest}: "
            "run a billing service at least as new as the one that migrated it"
        )
    for migration in sorted(migrations, key=lambda m: m.version):
        if migration.version <= current:
            continue
        migration.apply(connection)
        connection.execute(
            insert(schema_version).values(version=migration.version, name=migration.name, applied_at=datetime.now(UTC))
        )
    return max(current, latest)
