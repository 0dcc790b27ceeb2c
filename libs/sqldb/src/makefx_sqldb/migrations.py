"""Versioned schema migrations, applied in code at start.

Each migration is a function of a synchronous connection, written with its table shapes
frozen as they were at that version (never imported from the live table models, which
move on). `schema_version` records what was applied. All of it runs in one transaction;
on PostgreSQL an advisory lock makes processes starting together wait for the first one
instead of racing it. A database migrated by newer code than this is refused.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Column, DateTime, Integer, MetaData, String, Table, func, insert, select, text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from makefx_sqldb.engine import WRITE


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    apply: Callable[[Connection], None]


class SchemaTooNew(RuntimeError):
    """The database was migrated by newer code than this."""


schema_version = Table(
    "schema_version",
    MetaData(),
    Column("version", Integer, primary_key=True, autoincrement=False),
    Column("name", String(200), nullable=False),
    Column("applied_at", DateTime(timezone=True), nullable=False),
)


async def apply_migrations(
    engine: AsyncEngine, migrations: Sequence[Migration], *, lock_key: int, database: str
) -> int:
    """Apply the migrations the database lacks; return the schema version it is at.

    `lock_key` is this database's PostgreSQL advisory lock id; `database` names it in errors.
    """
    async with engine.connect() as connection:
        await connection.execution_options(**{WRITE: True})
        async with connection.begin():
            return await connection.run_sync(_apply, migrations, lock_key, database)


def _apply(connection: Connection, migrations: Sequence[Migration], lock_key: int, database: str) -> int:
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": lock_key})
    schema_version.create(connection, checkfirst=True)
    current = connection.execute(select(func.max(schema_version.c.version))).scalar() or 0
    latest = max((migration.version for migration in migrations), default=0)
    if current > latest:
        raise SchemaTooNew(
            f"{database} is at schema version {current} but this code knows only up to {latest}: "
            "run a release at least as new as the one that migrated it"
        )
    for migration in sorted(migrations, key=lambda m: m.version):
        if migration.version <= current:
            continue
        migration.apply(connection)
        connection.execute(
            insert(schema_version).values(version=migration.version, name=migration.name, applied_at=datetime.now(UTC))
        )
    return max(current, latest)
