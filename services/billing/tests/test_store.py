"""The ledger on SQLite and PostgreSQL: recorded once by id, synced state, summaries by period and kind, budgets."""

from __future__ import annotations

from makefx_billing.store import LedgerStore
from makefx_billing.store.migrations import migrate
from makefx_contracts.usage import UsageKind


async def test_an_event_is_recorded_once_however_often_it_arrives(store: LedgerStore, make_usage) -> None:
    usage = make_usage()
    assert await store.record(usage, recorded_at=1) is True
    assert await store.record(usage, recorded_at=2) is False
    assert await store.record(usage.model_copy(update={"credits": 99}), recorded_at=3) is False
    assert await store.counts() == (1, 1)
    assert await store.unsynced(10) == [usage]


async def test_unsynced_events_come_oldest_first_and_leave_once_marked(store: LedgerStore, make_usage) -> None:
    first, second, third = make_usage(), make_usage(), make_usage()
    for recorded_at, usage in enumerate((first, second, third)):
        await store.record(usage, recorded_at=recorded_at)
    assert [u.id for u in await store.unsynced(2)] == [first.id, second.id]
    assert await store.mark_synced([first.id, second.id], synced_at=10) == 2
    assert await store.mark_synced([first.id], synced_at=11) == 0
    assert [u.id for u in await store.unsynced(10)] == [third.id]
    assert await store.counts() == (3, 1)


async def test_usage_is_summed_by_kind_within_the_period_for_a_user_or_a_space(store: LedgerStore, make_usage) -> None:
    events = [
        make_usage(at=1_000, quantity=1, credits=4),
        make_usage(at=2_000, quantity=2, credits=8),
        make_usage(at=2_500, kind=UsageKind.CHAT_TOKENS, unit="token", quantity=1500, credits=0.5),
        make_usage(at=9_000, quantity=1, credits=4),  # after the period
        make_usage(at=1_500, user_id="someone-else", space_id="elsewhere", credits=100),
    ]
    for usage in events:
        await store.record(usage, recorded_at=0)
    mine = await store.usage(user_id=events[0].user_id, space_id=None, since=0, until=5_000)
    assert [(line.kind, line.unit, line.quantity, line.credits, line.events) for line in mine] == [
        (UsageKind.CHAT_TOKENS, "token", 1500, 0.5, 1),
        (UsageKind.GENERATION_IMAGE, "image", 3, 12, 2),
    ]
    space = await store.usage(user_id=None, space_id=events[0].space_id, since=0, until=10_000)
    assert sum(line.events for line in space) == 4
    images_only = await store.usage(
        user_id=None, space_id=events[0].space_id, since=0, until=10_000, kinds=[UsageKind.GENERATION_IMAGE]
    )
    assert [(line.kind, line.events) for line in images_only] == [(UsageKind.GENERATION_IMAGE, 3)]
    assert await store.spent(events[0].space_id, since=2_000) == 12.5


async def test_a_space_budget_is_set_changed_and_removed(store: LedgerStore) -> None:
    assert await store.budget("s1") is None
    await store.set_budget("s1", 100, updated_at=1)
    assert await store.budget("s1") == 100
    await store.set_budget("s1", 250.5, updated_at=2)
    assert await store.budget("s1") == 250.5
    await store.set_budget("s1", None, updated_at=3)
    assert await store.budget("s1") is None


async def test_migrating_again_changes_nothing(store: LedgerStore, make_usage) -> None:
    await store.record(make_usage(), recorded_at=0)
    assert await migrate(store.engine) == 1
    assert await store.migrate() == 1
    assert (await store.counts())[0] == 1
