"""The global database's tables as SQLModel classes (the shape migrations.py creates)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import registry
from sqlmodel import Field, SQLModel

from makefx_gateway.store.types import UtcDateTime


class GatewayTable(SQLModel, registry=registry()):
    """Base of the gateway's tables: a metadata of their own, shared with no other service."""


class UserRow(GatewayTable, table=True):
    __tablename__ = "users"

    id: str = Field(primary_key=True, max_length=40)
    email: str = Field(max_length=254, unique=True)
    name: str = Field(max_length=200)
    password_hash: str = Field(max_length=255)
    created_at: datetime = Field(sa_type=UtcDateTime)
    updated_at: datetime = Field(sa_type=UtcDateTime)


class SpaceRow(GatewayTable, table=True):
    __tablename__ = "spaces"

    id: str = Field(primary_key=True, max_length=40)
    name: str = Field(max_length=200)
    created_by: str = Field(max_length=40)
    created_at: datetime = Field(sa_type=UtcDateTime)
    updated_at: datetime = Field(sa_type=UtcDateTime)


class MemberRow(GatewayTable, table=True):
    __tablename__ = "members"

    space_id: str = Field(primary_key=True, max_length=40, foreign_key="spaces.id", ondelete="CASCADE")
    user_id: str = Field(primary_key=True, max_length=40, foreign_key="users.id", ondelete="CASCADE", index=True)
    role: str = Field(max_length=16)
    created_at: datetime = Field(sa_type=UtcDateTime)
    updated_at: datetime = Field(sa_type=UtcDateTime)


class SessionRow(GatewayTable, table=True):
    __tablename__ = "sessions"

    id: str = Field(primary_key=True, max_length=40)
    user_id: str = Field(max_length=40, foreign_key="users.id", ondelete="CASCADE", index=True)
    refresh_token_hash: str = Field(max_length=64, unique=True)
    created_at: datetime = Field(sa_type=UtcDateTime)
    expires_at: datetime = Field(sa_type=UtcDateTime)
    revoked_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
