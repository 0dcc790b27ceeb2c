"""`/api/usage` (the caller's) and `/api/spaces/{spaceId}/usage` (owners only): usage by period and kind, and
a space's monthly budget; billing answers over the bus (`fx.billing.*`)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query

from makefx_bus import Bus
from makefx_contracts.errors import PermissionDenied, ValidationFailed
from makefx_contracts.http import BudgetIn
from makefx_contracts.usage import GetSpaceBudget, GetUsage, SetSpaceBudget, SpaceBudget, UsageKind, UsageSummary
from makefx_gateway import domain
from makefx_gateway.http.security import Credentials, operation_id
from makefx_gateway.service import Principal, Spaces

SpaceId = Annotated[str, Path(alias="spaceId", max_length=64)]
Since = Annotated[
    datetime | None, Query(description="start of the period (ISO 8601); default: the 1st of this month, UTC")
]
Until = Annotated[datetime | None, Query(description="end of the period, exclusive (ISO 8601); default: now")]
Kinds = Annotated[list[UsageKind] | None, Query(alias="kind", description="only these kinds (repeatable)")]


def usage_router(bus: Bus, spaces: Spaces, credentials: Credentials) -> APIRouter:
    router = APIRouter(prefix="/api", tags=["usage"], generate_unique_id_function=operation_id)
    caller = Depends(credentials.principal)

    async def owned(space_id: str, who: Principal) -> None:
        role = domain.require_member(await spaces.role_of(space_id, who.user_id), space_id)
        if not role.is_owner:
            raise PermissionDenied("only owners may see a space's usage and budget")

    @router.get("/usage")
    async def my_usage(
        who: Principal = caller, since: Since = None, until: Until = None, kind: Kinds = None
    ) -> UsageSummary:
        return await bus.request(GetUsage(user_id=who.user_id, kinds=kind, **_period(since, until)))

    @router.get("/spaces/{spaceId}/usage")
    async def space_usage(
        space_id: SpaceId, who: Principal = caller, since: Since = None, until: Until = None, kind: Kinds = None
    ) -> UsageSummary:
        await owned(space_id, who)
        return await bus.request(GetUsage(space_id=space_id, kinds=kind, **_period(since, until)))

    @router.get("/spaces/{spaceId}/budget")
    async def space_budget(space_id: SpaceId, who: Principal = caller) -> SpaceBudget:
        await owned(space_id, who)
        return await bus.request(GetSpaceBudget(space_id=space_id))

    @router.put("/spaces/{spaceId}/budget")
    async def set_space_budget(space_id: SpaceId, body: BudgetIn, who: Principal = caller) -> SpaceBudget:
        await owned(space_id, who)
        return await bus.request(SetSpaceBudget(space_id=space_id, monthly_credits=body.monthly_credits))

    return router


def _period(since: datetime | None, until: datetime | None) -> dict[str, int]:
    """Milliseconds for the bus; naive times are UTC; the default is this calendar month so far."""
    now = datetime.now(UTC)
    start = _utc(since) if since else now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    end = _utc(until) if until else now
    if end <= start:
        raise ValidationFailed(
            "until must be after since", details={"since": start.isoformat(), "until": end.isoformat()}
        )
    return {"since": int(start.timestamp() * 1000), "until": int(end.timestamp() * 1000)}


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
