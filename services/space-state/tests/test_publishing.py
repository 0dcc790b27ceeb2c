"""Publication to JetStream: every committed event, in order, once — and repaired after a failure or a crash."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence

import pytest

from makefx_bus import MSG_ID_HEADER, Bus
from makefx_contracts.errors import Unavailable
from makefx_contracts.events import AssetCreated, SpaceEvent
from makefx_contracts.space import (
    AssetChanges,
    CreateAsset,
    DeleteAsset,
    ForkAsset,
    GetEventsSince,
    GetSpaceState,
    SetActiveVariant,
    StarVariant,
    UpdateAsset,
)
from makefx_contracts.subjects import SPACE_EVENTS, STREAM_SPACE_EVENTS
from makefx_settings import ServiceSettings
from makefx_space_state.errors import PublishFailed
from makefx_space_state.publisher import BusEventPublisher


class FailingFirst:
    """The publisher port, failing its first `failures` calls, then publishing on the real bus."""

    def __init__(self, bus: Bus, failures: int) -> None:
        self.real = BusEventPublisher(bus)
        self.failures = failures
        self.attempts: list[int] = []

    async def publish(self, event: SpaceEvent) -> None:
        await self.publish_all([event])

    async def publish_all(self, events: Sequence[SpaceEvent]) -> None:
        self.attempts.extend(event.seq for event in events)
        if self.failures > 0:
            self.failures -= 1
            raise PublishFailed("injected: JetStream did not acknowledge")
        await self.real.publish_all(events)


class StoresOnlyTheFirst:
    """The publisher port, storing only the first event of the first batch of several on the real bus (as
    when JetStream acknowledged it and then stopped answering), then publishing normally."""

    def __init__(self, bus: Bus) -> None:
        self.real = BusEventPublisher(bus)
        self.failed = False
        self.batches: list[list[int]] = []

    async def publish(self, event: SpaceEvent) -> None:
        await self.publish_all([event])

    async def publish_all(self, events: Sequence[SpaceEvent]) -> None:
        self.batches.append([event.seq for event in events])
        if len(events) > 1 and not self.failed:
            self.failed = True
            await self.real.publish_all(events[:1])
            raise PublishFailed("injected: the rest were not acknowledged", stored=1)
        await self.real.publish_all(events)


async def _log(world) -> list[SpaceEvent]:
    return (await world.service.get_events_since(GetEventsSince(space_id=world.space_id, since_seq=0))).events


def _published_marker(world) -> int:
    connection = sqlite3.connect(world.files.space_path(world.space_id))
    try:
        return int(connection.execute("SELECT value FROM meta WHERE key = 'published_seq'").fetchone()[0])
    finally:
        connection.close()


async def test_every_committed_event_is_in_jetstream_in_order_with_its_msg_id(world, bus, read_stream, as_json):
    asset = await world.create_asset()
    variant = await world.add_variant(asset.id)
    await world.apply(SetActiveVariant, asset_id=asset.id, variant_id=variant.id)
    await world.apply(StarVariant, variant_id=variant.id, starred=True)
    await world.apply(UpdateAsset, asset_id=asset.id, changes=AssetChanges(name="Renamed"))
    await world.apply(ForkAsset, source_variant_id=variant.id, name="Fork", asset_type="item")
    await world.apply(DeleteAsset, asset_id=asset.id)

    log = await _log(world)
    assert [event.seq for event in log] == list(range(1, 8))
    assert await read_stream(world.space_id) == as_json(log)
    subject = SPACE_EVENTS.fill(space_id=world.space_id)
    last = await bus.js.get_last_msg(STREAM_SPACE_EVENTS, subject)
    assert last.headers[MSG_ID_HEADER] == f"{world.space_id}:7"


async def test_a_failed_publish_is_repaired_before_the_next_commands_events(
    tmp_path, bus, make_world, read_stream, as_json
):
    publisher = FailingFirst(bus, failures=1)
    world = make_world(tmp_path / "replica", publisher)

    with pytest.raises(Unavailable, match="not yet replicated"):
        await world.create_asset("Committed anyway")
    assert await read_stream(world.space_id) == []  # committed, not yet in the stream
    assert [asset.name for asset in (await world.state()).assets] == ["Committed anyway"]

    await world.create_asset("Next")

    assert publisher.attempts == [1, 1, 2]  # the gap first, then the new event
    assert await read_stream(world.space_id) == as_json(await _log(world))
    await world.spaces.close(world.space_id)
    assert _published_marker(world) == 2


async def test_events_behind_a_failed_one_wait_so_the_stream_stays_in_order(
    tmp_path, bus, make_world, read_stream, as_json
):
    publisher = FailingFirst(bus, failures=2)  # the first event, then its retry before the second command
    world = make_world(tmp_path / "replica", publisher)

    for name in ("One", "Two"):  # Two's gap retry fails too: "Two" must not overtake "One"
        with pytest.raises(Unavailable):
            await world.create_asset(name)
    assert await read_stream(world.space_id) == []

    await world.service.publish_pending()  # the periodic repair, without a new command

    assert await read_stream(world.space_id) == as_json(await _log(world))


async def test_events_committed_before_a_crash_are_published_when_the_space_opens_again(
    tmp_path, bus, make_world, read_stream, as_json
):
    data_dir = tmp_path / "replica"
    crashed = make_world(data_dir, FailingFirst(bus, failures=10**6))
    for name in ("Before the crash", "Also before"):
        with pytest.raises(Unavailable):
            await crashed.create_asset(name)
    await crashed.spaces.close(crashed.space_id)
    assert await read_stream(crashed.space_id) == []

    restarted = make_world(data_dir, BusEventPublisher(bus), space_id=crashed.space_id)
    state = await restarted.service.get_state(GetSpaceState(space_id=crashed.space_id))

    assert state.seq == 2
    assert await read_stream(crashed.space_id) == as_json(await _log(restarted))


async def test_republishing_what_the_stream_already_has_adds_no_duplicates(tmp_path, bus, make_world, read_stream):
    data_dir = tmp_path / "replica"
    world = make_world(data_dir, BusEventPublisher(bus))
    await world.create_asset("One")
    await world.create_asset("Two")
    await world.spaces.close(world.space_id)
    # As after a crash between JetStream's ack and the marker's commit: the marker is behind.
    connection = sqlite3.connect(world.files.space_path(world.space_id))
    connection.execute("UPDATE meta SET value = '0' WHERE key = 'published_seq'")
    connection.commit()
    connection.close()

    reopened = make_world(data_dir, BusEventPublisher(bus), space_id=world.space_id)
    await reopened.create_asset("Three")

    assert [event["seq"] for event in await read_stream(world.space_id)] == [1, 2, 3]


async def test_on_the_real_bus_a_stopped_connection_is_repaired_after_it_returns(
    tmp_path, nats_server, make_world, read_stream, as_json
):
    own_bus = Bus(ServiceSettings(nats_url=nats_server.url, service_name="space-state-flaky"))
    await own_bus.start()
    world = make_world(tmp_path / "replica", BusEventPublisher(own_bus))
    await world.create_asset("Published")
    await own_bus.stop()

    with pytest.raises(Unavailable, match="not yet replicated"):
        await world.create_asset("Committed while the bus is down")

    await own_bus.start()
    try:
        await world.create_asset("After the bus came back")
    finally:
        await own_bus.stop()
    assert [event["seq"] for event in await read_stream(world.space_id)] == [1, 2, 3]
    assert await read_stream(world.space_id) == as_json(await _log(world))


async def test_a_change_is_acknowledged_only_once_it_is_in_the_stream(tmp_path, bus, make_world, read_stream):
    """An answer is a promise another replica can keep after this one dies; the retry collects it."""
    publisher = FailingFirst(bus, failures=1)
    world = make_world(tmp_path / "replica", publisher)
    command = world.command(CreateAsset, name="Hero", asset_type="character")

    with pytest.raises(Unavailable) as refused:
        await world.service.apply(command)
    retried = await world.service.apply(command)

    assert retried.duplicate and retried.seq == refused.value.details["seq"] == 1
    assert [event["seq"] for event in await read_stream(world.space_id)] == [1]


async def test_the_events_of_one_command_reach_the_stream_together_in_order_each_with_its_msg_id(
    world, bus, read_stream
):
    asset = await world.create_asset()  # seq 1, published by the command
    events = [
        AssetCreated(
            space_id=world.space_id, seq=seq, at=asset.created_at, asset=asset.model_copy(update={"id": f"a{seq}"})
        )
        for seq in range(2, 42)
    ]

    await BusEventPublisher(bus).publish_all(events)

    assert [event["seq"] for event in await read_stream(world.space_id)][1:] == list(range(2, 42))
    subject = SPACE_EVENTS.fill(space_id=world.space_id)
    last = await bus.js.get_last_msg(STREAM_SPACE_EVENTS, subject)
    assert last.headers[MSG_ID_HEADER] == f"{world.space_id}:41"


async def test_when_only_some_of_a_commands_events_are_stored_the_rest_follow_without_repeating_them(
    tmp_path, bus, make_world, read_stream, as_json
):
    publisher = StoresOnlyTheFirst(bus)
    world = make_world(tmp_path / "replica", publisher)
    parent = await world.create_asset("Parent")
    for name in ("Child one", "Child two"):
        await world.create_asset(name, parent_asset_id=parent.id)

    with pytest.raises(Unavailable, match="not yet replicated"):
        await world.apply(DeleteAsset, asset_id=parent.id)  # two children detached, then the parent deleted
    assert [event["seq"] for event in await read_stream(world.space_id)] == [1, 2, 3, 4]

    await world.create_asset("Next")

    assert publisher.batches[-3:] == [[4, 5, 6], [5, 6], [7]]
    assert await read_stream(world.space_id) == as_json(await _log(world))
