"""Use cases of billing: record usage once, summarise it, keep and check space budgets."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from makefx_billing import domain
from makefx_billing.store import LedgerStore
from makefx_contracts.usage import (
    BudgetVerdict,
    CheckBudget,
    GetSpaceBudget,
    GetUsage,
    SetSpaceBudget,
    SpaceBudget,
    UsageRecorded,
    UsageSummary,
)

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


class Ledger:
    def __init__(self, store: LedgerStore, clock: Clock = utc_now) -> None:
        self.store = store
        self.clock = clock

    async def record(self, usage: UsageRecorded) -> bool:
        """True when the event is new; a repeat of a known id changes nothing."""
        return await self.store.record(usage, domain.to_millis(self.clock()))

    async def usage(self, query: GetUsage) -> UsageSummary:
        lines = await self.store.usage(
            user_id=query.user_id,
            space_id=query.space_id,
            since=query.since,
            until=query.until,
            kinds=query.kinds,
        )
        return UsageSummary(
            user_id=query.user_id,
            space_id=query.space_id,
            since=query.since,
            until=query.until,
            credits=sum(line.credits for line in lines),
            events=sum(line.events for line in lines),
            by_kind=[line.wire() for line in lines],
        )

    async def budget(self, query: GetSpaceBudget) -> SpaceBudget:
        return await self._space_budget(query.space_id)

    async def set_budget(self, command: SetSpaceBudget) -> SpaceBudget:
        await self.store.set_budget(command.space_id, command.monthly_credits, domain.to_millis(self.clock()))
        return await self._space_budget(command.space_id)

    async def check_budget(self, query: CheckBudget) -> BudgetVerdict:
        budget = await self._space_budget(query.space_id)
        return BudgetVerdict(
            space_id=query.space_id,
            allowed=domain.within_budget(budget.monthly_credits, budget.spent_credits, query.credits),
            requested=query.credits,
            monthly_credits=budget.monthly_credits,
            spent_credits=budget.spent_credits,
            month_start=budget.month_start,
        )

    async def _space_budget(self, space_id: str) -> SpaceBudget:
        start = domain.to_millis(domain.month_start(self.clock()))
        return SpaceBudget(
            space_id=space_id,
            monthly_credits=await self.store.budget(space_id),
            spent_credits=await self.store.spent(space_id, start),
            month_start=start,
        )
