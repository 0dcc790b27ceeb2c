"""`fx.billing.*` over a real nats-server: usage by period and kind, space budgets, the fail-fast budget check."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from makefx_billing import domain
from makefx_bus import Bus
from makefx_contracts.errors import InvalidMessage, QuotaExceeded
from makefx_contracts.usage import (
    CheckBudget,
    GetSpaceBudget,
    GetUsage,
    SetSpaceBudget,
    UsageKind,
)

from .conftest import eventually

NOW = domain.to_millis(datetime.now(UTC))
MONTH_START = domain.to_millis(domain.month_start(datetime.now(UTC)))


async def record(billing, publisher: Bus, *events) -> None:
    for usage in events:
        await publisher.persist(usage, msg_id=usage.id)
    ids = {usage.id for usage in events}

    async def recorded() -> bool:
        return ids <= {u.id for u in await billing.store.unsynced(100_000)}

    await eventually(billing.store, recorded)


async def test_usage_is_answered_by_period_and_by_kind(
    start_billing, make_settings, publisher: Bus, make_usage
) -> None:
    billing = await start_billing(make_settings())
    old = make_usage(at=NOW - 40 * 86_400_000, credits=4)
    image = make_usage(at=NOW - 1000, credits=4)
    video = make_usage(at=NOW - 500, kind=UsageKind.GENERATION_VIDEO, unit="second", quantity=8, credits=40)
    chat = make_usage(at=NOW - 100, kind=UsageKind.CHAT_TOKENS, unit="token", quantity=900, credits=0.25)
    elsewhere = make_usage(at=NOW - 100, space_id="another-space", credits=7)
    await record(billing, publisher, old, image, video, chat, elsewhere)

    mine = await publisher.request(GetUsage(user_id=image.user_id, since=NOW - 86_400_000, until=NOW + 1))
    assert [(line.kind, line.unit, line.quantity, line.events) for line in mine.by_kind] == [
        (UsageKind.CHAT_TOKENS, "token", 900, 1),
        (UsageKind.GENERATION_IMAGE, "image", 2, 2),
        (UsageKind.GENERATION_VIDEO, "second", 8, 1),
    ]
    assert (mine.credits, mine.events) == (51.25, 4)

    space = await publisher.request(
        GetUsage(space_id=image.space_id, since=0, until=NOW + 1, kinds=[UsageKind.GENERATION_IMAGE])
    )
    assert [(line.kind, line.events, line.credits) for line in space.by_kind] == [(UsageKind.GENERATION_IMAGE, 2, 8)]

    nothing = await publisher.request(GetUsage(space_id=image.space_id, since=NOW + 1, until=NOW + 2))
    assert (nothing.by_kind, nothing.credits, nothing.events) == ([], 0, 0)


async def test_a_usage_query_needs_a_user_or_a_space_and_a_forward_period(start_billing, make_settings, publisher):
    await start_billing(make_settings())
    with pytest.raises(ValueError, match="userId, spaceId"):
        GetUsage(since=0, until=1)
    with pytest.raises(InvalidMessage):
        await publisher.request(GetUsage.model_construct(user_id="u1", since=5, until=1))


async def test_a_generation_that_would_exceed_the_space_budget_is_refused_before_it_starts(
    start_billing, make_settings, publisher: Bus, make_usage
) -> None:
    billing = await start_billing(make_settings())
    usage = make_usage(at=NOW - 10, credits=30)
    last_month = make_usage(at=MONTH_START - 1, credits=1000)
    await record(billing, publisher, usage, last_month)
    space_id = usage.space_id

    unlimited = await publisher.request(CheckBudget(space_id=space_id, credits=10_000))
    assert unlimited.allowed and unlimited.monthly_credits is None

    budget = await publisher.request(SetSpaceBudget(space_id=space_id, monthly_credits=50))
    assert (budget.monthly_credits, budget.spent_credits, budget.month_start) == (50, 30, MONTH_START)
    assert (await publisher.request(GetSpaceBudget(space_id=space_id))) == budget

    fits = await publisher.request(CheckBudget(space_id=space_id, credits=20))
    assert fits.allowed
    fits.raise_if_refused()

    too_much = await publisher.request(CheckBudget(space_id=space_id, credits=20.5))
    assert not too_much.allowed
    with pytest.raises(QuotaExceeded, match="monthly budget of 50 credits would be exceeded") as refused:
        too_much.raise_if_refused()
    assert refused.value.details["spentCredits"] == 30

    removed = await publisher.request(SetSpaceBudget(space_id=space_id, monthly_credits=None))
    assert removed.monthly_credits is None
    assert (await publisher.request(CheckBudget(space_id=space_id, credits=20.5))).allowed
