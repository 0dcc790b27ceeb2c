"""The schema versions of the ledger, applied in code on start (as the gateway's are).

Each version is a function with its table shapes frozen as they were then (never imported
from tables.py, which moves on); `makefx_sqldb.apply_migrations` runs them.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import (
    BigInteger,
    Column,
    Connection,
    Float,
    Index,
    MetaData,
    String,
    Table,
)
from sqlalchemy.ext.asyncio import AsyncEngine

from makefx_sqldb import Migration, SchemaTooNew, apply_migrations

__all__ = ["MIGRATIONS", "Migration", "SchemaTooNew", "migrate"]


# An arbitrary constant: the PostgreSQL advisory lock id of this database's migrations.
_LOCK_KEY = 0x6D616B6566780002


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


async def migrate(engine: AsyncEngine, migrations: Sequence[Migration] = MIGRATIONS) -> int:
    """Apply the migrations the usage ledger lacks; return the schema version it is at."""
    return await apply_migrations(engine, migrations, lock_key=_LOCK_KEY, database="the usage ledger")
