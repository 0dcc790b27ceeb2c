"""Bus responders of `fx.billing.*`: thin, named after the message."""

from __future__ import annotations

from makefx_billing.service import Ledger
from makefx_contracts.usage import (
    BudgetVerdict,
    CheckBudget,
    GetSpaceBudget,
    GetUsage,
    SetSpaceBudget,
    SpaceBudget,
    UsageSummary,
)


class BillingResponders:
    def __init__(self, ledger: Ledger) -> None:
        self.ledger = ledger

    async def on_get_usage(self, query: GetUsage) -> UsageSummary:
        return await self.ledger.usage(query)

    async def on_get_space_budget(self, query: GetSpaceBudget) -> SpaceBudget:
        return await self.ledger.budget(query)

    async def on_set_space_budget(self, command: SetSpaceBudget) -> SpaceBudget:
        return await self.ledger.set_budget(command)

    async def on_check_budget(self, query: CheckBudget) -> BudgetVerdict:
        return await self.ledger.check_budget(query)
