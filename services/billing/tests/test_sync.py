"""The ledger synced to a fake Polar through the real polar-sdk: every interval, never twice, nothing lost."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable

import httpx
import pytest

from makefx_billing.polar import PolarSink
from makefx_billing.store import LedgerStore
from makefx_billing.sync import PolarSync
from makefx_bus import Bus
from makefx_cli.nats_server import NatsServer
from makefx_settings import ServiceSettings

from .conftest import POLAR_TOKEN, BillingProcess, eventually
from .fake_polar import FakePolar, running_fake_polar


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


async def unsynced_ids(store: LedgerStore) -> set[str]:
    return {usage.id for usage in await store.unsynced(10_000)}


async def polar_holds(polar: FakePolar, predicate: Callable[[FakePolar], bool], billing: BillingProcess) -> None:
    """Wait until the fake Polar's state satisfies `predicate`; on timeout, show the billing process's output."""
    try:
        await polar.wait_until(predicate, timeout=60)
    except TimeoutError:
        raise AssertionError(f"Polar never got there; billing's output:\n{billing.output()}") from None


async def polled(check: Callable[[], Awaitable[bool]], timeout: float = 30) -> None:
    """Wait until `check()` holds, for state nothing announces (another process's writes, a failure counter)."""
    async with asyncio.timeout(timeout):
        while True:
            if await check():
                return
            await asyncio.sleep(0.02)


@contextlib.asynccontextmanager
async def connected_bus(nats: NatsServer) -> AsyncIterator[Bus]:
    """Another service's bus on `nats`, to publish usage as a generation worker does."""
    bus = Bus(ServiceSettings(nats_url=nats.url, service_name="billing-test-client"))
    await bus.start()
    try:
        yield bus
    finally:
        await bus.stop()


class SteppedSleep:
    """The sync loop's sleep port: records each delay the loop chose and holds the loop there until the test
    lets it go on, so a test sees the delay without waiting it out."""

    def __init__(self) -> None:
        self.delays: list[float] = []
        self._asked = asyncio.Condition()
        self._go_on = asyncio.Semaphore(0)

    async def __call__(self, delay: float) -> None:
        async with self._asked:
            self.delays.append(delay)
            self._asked.notify_all()
        await self._go_on.acquire()

    async def asked(self, times: int, timeout: float = 30) -> None:
        async with asyncio.timeout(timeout), self._asked:
            await self._asked.wait_for(lambda: len(self.delays) >= times)

    def go_on(self) -> None:
        self._go_on.release()


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


async def test_billing_killed_after_polar_stored_a_batch_and_before_marking_it_resends_it_and_polar_bills_it_once(
    start_billing,
    start_billing_process,
    make_settings,
    store: LedgerStore,
    fake_polar: FakePolar,
    fresh_nats_server: NatsServer,
    make_usage,
) -> None:
    # A NATS of this test's own: the USAGE stream holds only these events, so every count is exact.
    # They wait in the ledger first (no Polar yet), so the first sync sends them in one batch.
    ledger_only = await start_billing(make_settings(nats_url=fresh_nats_server.url))
    events = [make_usage() for _ in range(4)]
    ids = {usage.id for usage in events}
    async with connected_bus(fresh_nats_server) as bus:
        for usage in events:
            await bus.persist(usage, msg_id=usage.id)

    async def all_recorded() -> bool:
        return await unsynced_ids(ledger_only.store) == ids

    await eventually(ledger_only.store, all_recorded)
    await ledger_only.stop()

    # Polar stores the batch and holds its answer back; billing, a process of its own, is killed
    # (SIGKILL) while it waits for that answer: after the send, before the mark.
    settings = polar_settings(make_settings, fake_polar, nats_url=fresh_nats_server.url, polar_timeout_seconds=120)
    fake_polar.commit_then_hang_next()
    crashing = start_billing_process(settings)
    await polar_holds(fake_polar, lambda polar: ids <= set(polar.events), crashing)
    assert await unsynced_ids(store) == ids
    crashing.kill()
    fake_polar.release()
    assert fake_polar.duplicates == 0

    restarted = start_billing_process(settings)
    await polar_holds(fake_polar, lambda polar: polar.duplicates >= len(events), restarted)

    async def all_marked() -> bool:
        return await store.counts() == (len(events), 0)

    await polled(all_marked)

    # Sent twice, billed once: Polar has each event once and counted the resend as duplicates.
    assert set(fake_polar.events) == ids
    assert fake_polar.received == Counter(dict.fromkeys(ids, 2))
    assert fake_polar.duplicates == len(events)
    restarted.stop()  # while this test's NATS still runs


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


async def test_polar_rate_limiting_is_retried_after_the_delay_polar_asked_for_and_syncs_the_batch_once(
    store: LedgerStore, make_settings, fake_polar: FakePolar, make_usage
) -> None:
    events = [make_usage() for _ in range(3)]
    ids = [usage.id for usage in events]
    for usage in events:
        await store.record(usage, usage.at)
    fake_polar.fail_next(1, status=429, retry_after=30)
    sleep = SteppedSleep()
    sync = PolarSync(
        store,
        PolarSink(polar_settings(make_settings, fake_polar)),
        interval_seconds=300,
        batch_size=100,
        retry_initial_seconds=1,
        retry_max_seconds=5,
        sleep=sleep,
    )
    await sync.start()
    try:
        await sleep.asked(1)
        # Polar's Retry-After wins over the backoff (1 s) and even over its cap (5 s).
        assert sleep.delays == [30]
        assert fake_polar.statuses == [429]
        assert await unsynced_ids(store) == set(ids)
        sleep.go_on()
        await sleep.asked(2)
        assert sleep.delays == [30, 300]
    finally:
        await sync.stop()

    assert fake_polar.statuses == [429, 200]
    # The retry resent the same batch, which Polar then took.
    assert [sorted(batch) for batch in fake_polar.batches] == [sorted(ids), sorted(ids)]
    assert set(fake_polar.events) == set(ids)
    assert fake_polar.duplicates == 0
    assert await store.counts() == (3, 0)


async def test_polar_unreachable_then_reachable_loses_nothing_and_counts_nothing_twice(
    start_billing, make_settings, publisher: Bus, make_usage, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="makefx_billing.sync")
    with socket.socket() as polar_address:
        # Bound but not listening: every connection to Polar is refused until the fake starts on it.
        polar_address.bind(("127.0.0.1", 0))
        host, port = polar_address.getsockname()
        billing = await start_billing(
            make_settings(
                polar_access_token=POLAR_TOKEN,
                polar_server_url=f"http://{host}:{port}",
                polar_sync_interval_seconds=0.2,
                polar_batch_size=1000,
            )
        )
        sync: PolarSync = billing.app.state.service.extra["sync"]
        events = [make_usage() for _ in range(5)]
        ids = {usage.id for usage in events}
        for usage in events:
            await publisher.persist(usage, msg_id=usage.id)

        async def all_recorded() -> bool:
            return ids <= await unsynced_ids(billing.store)

        await eventually(billing.store, all_recorded)
        failed_before = sync.failures

        async def failed_twice_more() -> bool:
            return sync.failures >= failed_before + 2

        await polled(failed_twice_more)
        assert ids <= await unsynced_ids(billing.store)
        assert "Polar is unreachable (ConnectError)" in caplog.text

        async with running_fake_polar(POLAR_TOKEN, listen_on=polar_address) as polar:
            await polar.wait_until(lambda polar: ids <= set(polar.events))
            await eventually(billing.store, lambda: in_step(billing, polar))
            assert set(polar.statuses) == {200}
            assert all(polar.received[usage_id] == 1 for usage_id in ids)
            assert polar.duplicates == 0


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


async def test_billing_fails_its_liveness_probe_once_its_usage_consumer_stopped(start_billing, make_settings) -> None:
    billing = await start_billing(make_settings())
    async with httpx.AsyncClient(base_url=billing.url) as client:
        assert (await client.get("/healthz")).status_code == 200
        await billing.app.state.service.extra["intake"].stop()
        alive, ready = await client.get("/healthz"), await client.get("/readyz")
    for answer in (alive, ready):
        assert answer.status_code == 503, answer.text
        assert "the usage event consumer is not consuming USAGE" in answer.json()["problems"]
