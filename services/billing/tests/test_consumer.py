"""Usage events from a real nats-server into the ledger: once per id, whatever JetStream delivers."""

from __future__ import annotations

from makefx_bus import Bus
from makefx_contracts import subjects

from .conftest import eventually


async def test_an_event_persisted_twice_and_redelivered_is_one_ledger_row(
    start_billing, make_settings, publisher: Bus, make_usage
) -> None:
    settings = make_settings()
    billing = await start_billing(settings)
    usage, other = make_usage(), make_usage()
    # The same id twice under one Nats-Msg-Id (dropped by the stream), then under another
    # (as after the stream's duplicate window): two messages, one event.
    await publisher.persist(usage, msg_id=usage.id)
    await publisher.persist(usage, msg_id=usage.id)
    await publisher.persist(usage, msg_id=f"{usage.id}-again")
    await publisher.persist(other, msg_id=other.id)

    async def both_recorded() -> bool:
        lines = await billing.store.usage(user_id=usage.user_id, space_id=None, since=0, until=2**62)
        return sum(line.events for line in lines) == 2

    await eventually(billing.store, both_recorded)
    await billing.stop()

    # Redelivery of everything: the durable consumer is lost and recreated from the stream's start.
    await publisher.js.delete_consumer(subjects.STREAM_USAGE, settings.usage_consumer_name)
    again = await start_billing(settings)
    # Published after the redelivered ones: once it is in, they have all been through the ledger.
    marker = make_usage(user_id=f"marker-{usage.user_id}")
    await publisher.persist(marker, msg_id=marker.id)

    async def marker_recorded() -> bool:
        return len(await again.store.usage(user_id=marker.user_id, space_id=None, since=0, until=2**62)) > 0

    await eventually(again.store, marker_recorded)
    summary = await again.store.usage(user_id=usage.user_id, space_id=None, since=0, until=2**62)
    assert sum(line.events for line in summary) == 2
    assert sum(line.credits for line in summary) == usage.credits + other.credits
    assert {u.id for u in await again.store.unsynced(1000)} >= {usage.id, other.id, marker.id}


async def test_a_message_that_breaks_the_contract_is_dropped_and_the_rest_recorded(
    start_billing, make_settings, publisher: Bus, make_usage
) -> None:
    billing = await start_billing(make_settings())
    await publisher.js.publish(subjects.USAGE_EVENTS.fill(), b'{"type": "usage:recorded", "id": "broken"}')
    usage = make_usage()
    await publisher.persist(usage, msg_id=usage.id)

    async def recorded() -> bool:
        return len(await billing.store.usage(user_id=usage.user_id, space_id=None, since=0, until=2**62)) == 1

    await eventually(billing.store, recorded)
    # The broken message was terminated before the good one was recorded, on billing's own
    # connection: once that connection is flushed, the server has seen the termination.
    await billing.app.state.service.bus.nats.flush()
    consumer = await publisher.js.consumer_info(subjects.STREAM_USAGE, billing.settings.usage_consumer_name)
    assert consumer.num_ack_pending == 0
