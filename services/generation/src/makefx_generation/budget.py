"""The budget gate: a generation that would take its space over its monthly budget fails before any provider call.

Billing answers `CheckBudget` from its ledger. When billing does not answer (down, slow,
not deployed) the generation goes ahead and a warning is logged: a billing outage must
not stop the product, and the spend is still metered through `USAGE`, which billing reads
when it is back. The budget is therefore a fail-fast guard, not a hard cap: generations
started while billing was away, or at the same moment, can together pass it.
"""

from __future__ import annotations

import logging

from makefx_bus import Bus
from makefx_contracts import FxError
from makefx_contracts.errors import QuotaExceeded
from makefx_contracts.generation import GenerationJob, find_model
from makefx_contracts.usage import BudgetVerdict, CheckBudget

log = logging.getLogger(__name__)

_SECONDS_OPTIONS = ("videoDurationSeconds", "durationSeconds")
_FIXED_SECONDS = {"lyria-002": 30.0}
"""Models whose clips have one length whatever the recipe says."""


def estimated_credits(job: GenerationJob) -> float:
    """The price of the job before it runs: one image, or the seconds the recipe asks for (its schema's default)."""
    model = find_model(str(job.recipe.get("model", "")))
    if model is None:
        return 0.0
    if model.unit != "second":
        return model.cost_units
    seconds = _FIXED_SECONDS.get(model.id)
    if seconds is None:
        options = job.recipe.get("options") or {}
        properties = model.parameters.get("properties", {})
        for name in _SECONDS_OPTIONS:
            if name in properties:
                seconds = float(options.get(name, properties[name].get("default", 0)))
                break
    return model.cost_units * (seconds or 0.0)


class BudgetGate:
    def __init__(self, bus: Bus, *, timeout_seconds: float) -> None:
        self.bus = bus
        self.timeout = timeout_seconds
        self._billing_away = False

    async def check(self, job: GenerationJob) -> None:
        """Raise `QuotaExceeded` (its message is for the user) when the job's space cannot afford it."""
        credits = estimated_credits(job)
        try:
            verdict: BudgetVerdict = await self.bus.request(
                CheckBudget(space_id=job.space_id, credits=credits),
                timeout=self.timeout,
                # Billing known to be away: each job asks once, not three times, while it stays away.
                wait_for_responders=not self._billing_away,
            )
        except QuotaExceeded:
            raise
        except FxError as error:
            if not self._billing_away:
                log.warning("billing did not check the budget (%s); generating without the check", error)
            self._billing_away = True
            return
        if self._billing_away:
            log.info("billing answers budget checks again")
            self._billing_away = False
        verdict.raise_if_refused()
