"""The ledger synced to a fake Polar through the real polar-sdk: every interval, never twice, nothing lost."""

from __future__ import annotations

import time

import httpx

from makefx_bus import Bus

from .conftest import POLAR_TOKEN, eventually
from .fake_polar import FakePolar


def polar_settings(make_settings, fake_polar: FakePolar, **overrides):
    values = {
        "polar_access_token": POLAR_TOKEN,
        "polar_server_url": fake_polar.url,
        "polar_sync_interval_seconds": 0.2,
        "polar_timeout_seconds": 5,
    }
    return make_settings(**(values | overrides))


async def in_step(billing, polar: FakePolar) -> bool:
    """Every ledger event synced, and Polar holding exactly as many distinct events as the ledger.

    The ledger of each test replays the whole USAGE stream of the shared server, so this
    compares totals rather than the test's own events only.
    """
    total, pending = await billing.store.counts()
    return pending == 0 and polar.distinct == total


async def test_unsynced_events_reach_polar_every_interval(
    start_billing, make_settings, fake_polar: FakePolar, publisher: Bus, make_usage
) -> None:
    billing = await start_billing(polar_settings(make_settings, fake_polar))
    first = [make_usage() for _ in range(3)]
    for usage in first:
        await publisher.persist(usage, msg_id=usage.id)
    await fake_polar.wait_until(lambda polar: all(u.id in polar.events for u in first))
    # Nothing triggers the second round but the interval.
    later = [make_usage(kind="chat.tokens", unit="token", quantity=1200) for _ in range(2)]
    for usage in later:
        await publisher.persist(usage, msg_id=usage.id)
    await fake_polar.wait_until(lambda polar: all(u.id in polar.events for u in later))
    await eventually(billing.store, lambda: in_step(billing, fake_polar))

    sent = fake_polar.events[later[0].id]
    assert sent["name"] == "chat.tokens"
    assert sent["external_customer_id"] == later[0].user_id
    assert sent["metadata"] == {
        "space_id": later[0].space_id,
        "quantity": 1200,
        "unit": "token",
        "credits": later[0].credits,
        "model": later[0].model,
        "provider": later[0].provider,
    }
    assert sent["timestamp"].endswith("+00:00")
    assert fake_polar.duplicates == 0
    assert fake_polar.unauthorized == 0


async def test_a_crash_between_polar_storing_a_batch_and_the_ledger_marking_it_never_bills_twice(
    start_billing, make_settings, fake_polar: FakePolar, publisher: Bus, make_usage
) -> None:
    # The events wait in the ledger (no Polar yet), so the first sync sends them in one batch (with
    # whatever else the shared stream replays: hence a batch large enough for all of it).
    settings = polar_settings(make_settings, fake_polar, polar_batch_size=1000)
    ledger_only = await start_billing(make_settings())
    events = [make_usage() for _ in range(4)]
    for usage in events:
        await publisher.persist(usage, msg_id=usage.id)

    async def all_recorded() -> bool:
        return {u.id for u in events} <= {u.id for u in await ledger_only.store.unsynced(10_000)}

    await eventually(ledger_only.store, all_recorded)
    await ledger_only.stop()

    # Polar stores the batch, then its answer never arrives: billing dies waiting for it.
    fake_polar.commit_then_hang_next()
    crashing = await start_billing(settings)
    await fake_polar.wait_until(lambda polar: all(u.id in polar.events for u in events))
    await crashing.stop()
    assert fake_polar.duplicates == 0

    restarted = await start_billing(settings)
    await eventually(restarted.store, lambda: in_step(restarted, fake_polar))

    # Sent twice, billed once: Polar counted the resend as duplicates of the same external ids.
    assert {u.id for u in events} <= set(fake_polar.events)
    assert fake_polar.duplicates >= len(events)


async def test_polar_answering_500_then_recovering_loses_nothing_and_counts_nothing_twice(
    start_billing, make_settings, fake_polar: FakePolar, publisher: Bus, make_usage
) -> None:
    fake_polar.fail_next(3, status=500)
    billing = await start_billing(polar_settings(make_settings, fake_polar))
    events = [make_usage() for _ in range(5)]
    for usage in events:
        await publisher.persist(usage, msg_id=usage.id)
    await fake_polar.wait_until(lambda polar: all(u.id in polar.events for u in events))
    await eventually(billing.store, lambda: in_step(billing, fake_polar))

    assert fake_polar.statuses[:3] == [500, 500, 500]
    assert 200 in fake_polar.statuses[3:]
    assert fake_polar.duplicates == 0


async def test_polar_rate_limiting_is_retried_no_sooner_than_its_retry_after(
    start_billing, make_settings, fake_polar: FakePolar, publisher: Bus, make_usage
) -> None:
    fake_polar.fail_next(1, status=429, retry_after=1)
    await start_billing(polar_settings(make_settings, fake_polar, polar_retry_max_seconds=0.1))
    usage = make_usage()
    started = time.monotonic()
    await publisher.persist(usage, msg_id=usage.id)
    await fake_polar.wait_until(lambda polar: usage.id in polar.events)
    assert fake_polar.statuses[0] == 429
    assert time.monotonic() - started >= 1


async def test_a_refused_token_keeps_events_unsynced_until_polar_accepts(
    start_billing, make_settings, fake_polar: FakePolar, publisher: Bus, make_usage
) -> None:
    billing = await start_billing(polar_settings(make_settings, fake_polar, polar_access_token="revoked"))
    usage = make_usage()
    await publisher.persist(usage, msg_id=usage.id)

    async def recorded() -> bool:
        return usage.id in {u.id for u in await billing.store.unsynced(10_000)}

    # Other tests' events share the stream: count only refusals after this event is in the ledger.
    await eventually(billing.store, recorded)
    refused_before = fake_polar.unauthorized
    await fake_polar.wait_until(lambda polar: polar.unauthorized >= refused_before + 2)
    assert usage.id in {u.id for u in await billing.store.unsynced(10_000)}
    assert fake_polar.distinct == 0


async def test_without_a_polar_token_usage_stays_in_the_ledger_and_billing_is_ready(
    start_billing, make_settings, fake_polar: FakePolar, publisher: Bus, make_usage
) -> None:

    billing = await start_billing(make_settings(polar_server_url=fake_polar.url, polar_sync_interval_seconds=0.1))
    usage = make_usage()
    await publisher.persist(usage, msg_id=usage.id)

    async def recorded() -> bool:
        return usage.id in {u.id for u in await billing.store.unsynced(1000)}

    await eventually(billing.store, recorded)
    async with httpx.AsyncClient(base_url=billing.url) as client:
        ready = await client.get("/readyz")
    assert ready.status_code == 200, ready.text
    assert fake_polar.requests == 0
    assert billing.app.state.service.extra["sync"] is None
