"""The schema versions of the global database, applied in code on start.

Each version is a function with its table shapes frozen as they were then (never imported
from tables.py, which moves on); `makefx_sqldb.apply_migrations` runs them.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import (
    CheckConstraint,
    Column,
    Connection,
    DateTime,
    ForeignKey,
    Index,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    UniqueConstraint,
)
from sqlalchemy.ext.asyncio import AsyncEngine

from makefx_sqldb import Migration, SchemaTooNew, apply_migrations

__all__ = ["MIGRATIONS", "Migration", "SchemaTooNew", "migrate"]


# An arbitrary constant: the PostgreSQL advisory lock id of this database's migrations.
_LOCK_KEY = 0x6D616B6566780001


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


async def migrate(engine: AsyncEngine, migrations: Sequence[Migration] = MIGRATIONS) -> int:
    """Apply the migrations the global database lacks; return the schema version it is at."""
    return await apply_migrations(engine, migrations, lock_key=_LOCK_KEY, database="the global database")
