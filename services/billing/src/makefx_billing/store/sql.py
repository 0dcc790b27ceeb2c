"""The SQLModel adapter of the ledger: SQLite (aiosqlite) by default, PostgreSQL (asyncpg) in production."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import func, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import col, select

from makefx_billing.store.migrations import migrate
from makefx_billing.store.tables import SpaceBudgetRow, UsageEventRow
from makefx_contracts.usage import UsageByKind, UsageKind, UsageRecorded
from makefx_sqldb import Database
from makefx_sqldb import create_engine as create_sql_engine

log = logging.getLogger(__name__)


def create_engine(url: str) -> AsyncEngine:
    """The ledger's engine; on SQLite FULL sync: a recorded event is acked to JetStream right after its commit."""
    return create_sql_engine(url, sqlite_synchronous="FULL")


@dataclass(frozen=True)
class UsageLine:
    kind: UsageKind
    unit: str
    quantity: float
    credits: float
    events: int

    def wire(self) -> UsageByKind:
        return UsageByKind(
            kind=self.kind, unit=self.unit, quantity=self.quantity, credits=self.credits, events=self.events
        )


class LedgerChanges:
    """Wakes whoever waits for the ledger to change (an event recorded or synced) instead of polling it."""

    def __init__(self) -> None:
        self._next = asyncio.Event()

    @property
    def next(self) -> asyncio.Event:
        """Set at the next change: take it before looking at the ledger, then wait on it."""
        return self._next

    def notify(self) -> None:
        self._next.set()
        self._next = asyncio.Event()


class LedgerStore(Database):
    """The usage ledger: events keyed by their id (recorded once, ever), their sync state, space budgets."""

    def __init__(self, engine: AsyncEngine) -> None:
        super().__init__(engine, migrate, name="the usage ledger")
        self.changes = LedgerChanges()

    # -- events ----------------------------------------------------------------------

    async def record(self, usage: UsageRecorded, recorded_at: int) -> bool:
        """Add an event; False (and nothing changed) when its id is already in the ledger."""
        values = {
            "id": usage.id,
            "user_id": usage.user_id,
            "space_id": usage.space_id,
            "kind": usage.kind.value,
            "quantity": usage.quantity,
            "unit": usage.unit,
            "credits": usage.credits,
            "model": usage.model,
            "provider": usage.provider,
            "at": usage.at,
            "recorded_at": recorded_at,
            "synced_at": None,
        }
        dialect = postgresql if self.engine.dialect.name == "postgresql" else sqlite
        statement = dialect.insert(UsageEventRow).values(**values).on_conflict_do_nothing(index_elements=["id"])
        async with self.session(write=True) as session:
            result = await session.exec(statement)
            inserted = bool(result.rowcount)
        if inserted:
            self.changes.notify()
        return inserted

    async def unsynced(self, limit: int) -> list[UsageRecorded]:
        """The oldest events not yet accepted by Polar."""
        async with self.session() as session:
            rows = await session.exec(
                select(UsageEventRow)
                .where(col(UsageEventRow.synced_at).is_(None))
                .order_by(col(UsageEventRow.recorded_at), col(UsageEventRow.id))
                .limit(limit)
            )
            return [_usage_of(row) for row in rows]

    async def mark_synced(self, ids: Sequence[str], synced_at: int) -> int:
        """Mark events accepted by Polar, all in one transaction; returns how many were still unsynced."""
        if not ids:
            return 0
        async with self.session(write=True) as session:
            result = await session.exec(
                update(UsageEventRow)
                .where(col(UsageEventRow.id).in_(list(ids)), col(UsageEventRow.synced_at).is_(None))
                .values(synced_at=synced_at)
            )
            marked = int(result.rowcount)
        self.changes.notify()
        return marked

    async def counts(self) -> tuple[int, int]:
        """(events in the ledger, of which not yet synced)."""
        async with self.session() as session:
            total = (await session.exec(select(func.count()).select_from(UsageEventRow))).one()
            pending = (
                await session.exec(
                    select(func.count()).select_from(UsageEventRow).where(col(UsageEventRow.synced_at).is_(None))
                )
            ).one()
            return int(total), int(pending)

    async def usage(
        self,
        *,
        user_id: str | None,
        space_id: str | None,
        since: int,
        until: int,
        kinds: Sequence[UsageKind] | None = None,
    ) -> list[UsageLine]:
        """Usage in `[since, until)` grouped by kind and unit, in kind order."""
        statement = (
            select(
                UsageEventRow.kind,
                UsageEventRow.unit,
                func.sum(UsageEventRow.quantity),
                func.sum(UsageEventRow.credits),
                func.count(),
            )
            .where(col(UsageEventRow.at) >= since, col(UsageEventRow.at) < until)
            .group_by(col(UsageEventRow.kind), col(UsageEventRow.unit))
            .order_by(col(UsageEventRow.kind), col(UsageEventRow.unit))
        )
        if user_id is not None:
            statement = statement.where(col(UsageEventRow.user_id) == user_id)
        if space_id is not None:
            statement = statement.where(col(UsageEventRow.space_id) == space_id)
        if kinds:
            statement = statement.where(col(UsageEventRow.kind).in_([kind.value for kind in kinds]))
        async with self.session() as session:
            rows = await session.exec(statement)
            return [
                UsageLine(
                    kind=UsageKind(kind),
                    unit=unit,
                    quantity=float(quantity or 0),
                    credits=float(credits or 0),
                    events=int(events),
                )
                for kind, unit, quantity, credits, events in rows
            ]

    async def spent(self, space_id: str, since: int) -> float:
        """Credits a space spent from `since` on."""
        async with self.session() as session:
            total = (
                await session.exec(
                    select(func.coalesce(func.sum(UsageEventRow.credits), 0.0)).where(
                        col(UsageEventRow.space_id) == space_id, col(UsageEventRow.at) >= since
                    )
                )
            ).one()
            return float(total)

    # -- budgets ---------------------------------------------------------------------

    async def budget(self, space_id: str) -> float | None:
        async with self.session() as session:
            row = await session.get(SpaceBudgetRow, space_id)
            return None if row is None else row.monthly_credits

    async def set_budget(self, space_id: str, monthly_credits: float | None, updated_at: int) -> None:
        async with self.session(write=True) as session:
            row = await session.get(SpaceBudgetRow, space_id)
            if monthly_credits is None:
                if row is not None:
                    await session.delete(row)
                return
            if row is None:
                session.add(SpaceBudgetRow(space_id=space_id, monthly_credits=monthly_credits, updated_at=updated_at))
            else:
                row.monthly_credits = monthly_credits
                row.updated_at = updated_at
                session.add(row)


def _usage_of(row: UsageEventRow) -> UsageRecorded:
    return UsageRecorded(
        id=row.id,
        user_id=row.user_id,
        space_id=row.space_id,
        kind=UsageKind(row.kind),
        quantity=row.quantity,
        unit=row.unit,
        credits=row.credits,
        model=row.model,
        provider=row.provider,
        at=row.at,
    )
