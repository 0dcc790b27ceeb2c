"""Versioned schema migrations of the global database, applied in code on start.

Each migration is a function of a synchronous SQLAlchemy connection, written with
its table shapes frozen as they were at that version (never imported from
tables.py, which moves on). `schema_version` records what was applied. Runs in one
transaction; on PostgreSQL an advisory lock makes concurrent gateways wait for the
first one instead of racing it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    CheckConstraint,
    Column,
    Connection,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    UniqueConstraint,
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
    """The database was migrated by a newer gateway than this one."""


# An arbitrary constant: the PostgreSQL advisory lock id of this runner.
_LOCK_KEY = 0x6D616B6566780001

_schema = MetaData()
schema_version = Table(
    "schema_version",
    _schema,
    Column("version", Integer, primary_key=True, autoincrement=False),
    Column("name", String(200), nullable=False),
    Column("applied_at", DateTime(timezone=True), nullable=False),
)


def _v1_accounts_spaces_members(connection: Connection) -> None:
    metadata = MetaData()
    Table(
        "users",
        metadata,
        Column("id", String(40), primary_key=True),
        Column("email", String(254), nullable=False),
        Column("name", String(200), nullable=False),
        Column("password_hash", String(255), nullable=False),
        Column("created_at", DateTime(timezone=True), nullable=False),
        Column("updated_at", DateTime(timezone=True), nullable=False),
        UniqueConstraint("email", name="uq_users_email"),
    )
    Table(
        "spaces",
        metadata,
        Column("id", String(40), primary_key=True),
        Column("name", String(200), nullable=False),
        Column("created_by", String(40), nullable=False),
        Column("created_at", DateTime(timezone=True), nullable=False),
        Column("updated_at", DateTime(timezone=True), nullable=False),
    )
    Table(
        "members",
        metadata,
        Column("space_id", String(40), ForeignKey("spaces.id", ondelete="CASCADE"), nullable=False),
        Column("user_id", String(40), ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
        Column("role", String(16), nullable=False),
        Column("created_at", DateTime(timezone=True), nullable=False),
        Column("updated_at", DateTime(timezone=True), nullable=False),
        PrimaryKeyConstraint("space_id", "user_id", name="pk_members"),
        CheckConstraint("role IN ('owner', 'editor', 'viewer')", name="ck_members_role"),
        Index("ix_members_user_id", "user_id"),
    )
    Table(
        "sessions",
        metadata,
        Column("id", String(40), primary_key=True),
        Column("user_id", String(40), ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
        Column("refresh_token_hash", String(64), nullable=False),
        Column("created_at", DateTime(timezone=True), nullable=False),
        Column("expires_at", DateTime(timezone=True), nullable=False),
        Column("revoked_at", DateTime(timezone=True), nullable=True),
        UniqueConstraint("refresh_token_hash", name="uq_sessions_refresh_token_hash"),
        Index("ix_sessions_user_id", "user_id"),
    )
    metadata.create_all(connection)


MIGRATIONS: tuple[Migration, ...] = (Migration(1, "accounts, spaces, members, sessions", _v1_accounts_spaces_members),)


async def migrate(
    engine: AsyncEngine,
    migrations: Sequence[Migration] = MIGRATIONS,
    *,
    execution_options: Mapping[str, Any] | None = None,
) -> int:
    """Apply the migrations the database lacks; return the schema version it is at."""
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
            f"the database is at schema version {current} but this gateway knows only up to {latest}: "
            "run a gateway at least as new as the one that migrated it"
        )
    for migration in sorted(migrations, key=lambda m: m.version):
        if migration.version <= current:
            continue
        migration.apply(connection)
        connection.execute(
            insert(schema_version).values(version=migration.version, name=migration.name, applied_at=datetime.now(UTC))
        )
    return max(current, latest)
