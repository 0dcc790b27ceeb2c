"""The ledger's tables as SQLModel classes (the shape migrations.py creates). Times are epoch milliseconds."""

from __future__ import annotations

from sqlalchemy import BigInteger, Column
from sqlalchemy.orm import registry
from sqlmodel import Field, SQLModel


class LedgerTable(SQLModel, registry=registry()):
    """Base of billing's tables: a metadata of their own."""


class UsageEventRow(LedgerTable, table=True):
    __tablename__ = "usage_events"

    id: str = Field(primary_key=True, max_length=200)
    user_id: str = Field(max_length=128)
    space_id: str = Field(max_length=128)
    kind: str = Field(max_length=32)
    quantity: float
    unit: str = Field(max_length=32)
    credits: float
    model: str = Field(max_length=128)
    provider: str = Field(max_length=64)
    at: int = Field(sa_column=Column(BigInteger, nullable=False))
    recorded_at: int = Field(sa_column=Column(BigInteger, nullable=False))
    synced_at: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))


class SpaceBudgetRow(LedgerTable, table=True):
    __tablename__ = "space_budgets"

    space_id: str = Field(primary_key=True, max_length=128)
    monthly_credits: float
    updated_at: int = Field(sa_column=Column(BigInteger, nullable=False))
