"""Handoff: snapshot a space, restore it on another replica, replay the stream after it — the same space."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from pydantic import TypeAdapter

from makefx_contracts.errors import InvalidState, ValidationFailed
from makefx_contracts.events import SpaceEvent
from makefx_contracts.space import (
    AssetChanges,
    CreateAsset,
    DeleteAsset,
    DeleteVariant,
    ForkAsset,
    GetEventsSince,
    Position,
    SetActiveVariant,
    SeverLineage,
    StarVariant,
    UpdateAsset,
)
from makefx_space_state.ports import SnapshotFile
from makefx_space_state.publisher import BusEventPublisher

EVENTS = TypeAdapter(list[SpaceEvent])


async def _every_kind_of_change(world) -> None:
    hero = await world.create_asset("Hero", position=Position(x=1, y=2))
    child = await world.create_asset("Child", parent_asset_id=hero.id)
    first = await world.add_variant(hero.id, created_at=10)
    second = await world.add_variant(hero.id, created_at=20)
    await world.apply(SetActiveVariant, asset_id=hero.id, variant_id=second.id)
    await world.apply(UpdateAsset, asset_id=child.id, changes=AssetChanges(name="Renamed", tags=["t"]))
    await world.apply(StarVariant, variant_id=first.id, starred=True)
    fork = (await world.apply(ForkAsset, source_variant_id=first.id, name="Fork", asset_type="item")).events[0]
    await world.apply(SeverLineage, lineage_id=fork.lineage.id)
    await world.apply(DeleteVariant, variant_id=second.id)
    await world.apply(DeleteAsset, asset_id=hero.id)


def _rows(path: Path) -> dict[str, list[tuple]]:
    """Every row of the space's tables, including soft-deleted assets and the request ids."""
    connection = sqlite3.connect(path)
    try:
        return {
            table: connection.execute(f"SELECT * FROM {table} ORDER BY 1").fetchall()
            for table in ("assets", "variants", "lineage", "events", "applied_requests")
        }
    finally:
        connection.close()


async def _events(world, since: int = 0) -> list[SpaceEvent]:
    return (await world.service.get_events_since(GetEventsSince(space_id=world.space_id, since_seq=since))).events


@pytest.fixture
def replica_b(tmp_path, bus, make_world, world):
    """A second replica (its own data directory) for the same space."""
    return make_world(tmp_path / "replica-b", BusEventPublisher(bus), space_id=world.space_id)


async def test_snapshot_restore_and_replay_of_the_stream_rebuild_the_same_space(world, replica_b, read_stream):
    await _every_kind_of_change(world)
    snapshot = await world.service.snapshot(world.space_id)
    assert snapshot.seq == await world.seq() and snapshot.path.is_file()
    assert snapshot.path.is_relative_to(world.data_dir / "snapshots")
    await world.create_asset("After the snapshot")
    await _every_kind_of_change(world)

    restored_seq = await replica_b.service.restore(world.space_id, snapshot)
    assert restored_seq == snapshot.seq
    # What a new owner reads from SPACE_EVENTS after the snapshot's seq.
    stream = EVENTS.validate_python(await read_stream(world.space_id))
    seq = await replica_b.service.replay(world.space_id, [event for event in stream if event.seq > snapshot.seq])

    assert seq == await world.seq()
    assert await replica_b.state() == await world.state()
    assert await _events(replica_b) == await _events(world)
    await world.spaces.close(world.space_id)
    await replica_b.spaces.close(world.space_id)
    a, b = _rows(world.files.space_path(world.space_id)), _rows(replica_b.files.space_path(world.space_id))
    assert {table: rows for table, rows in a.items() if table != "applied_requests"} == {
        table: rows for table, rows in b.items() if table != "applied_requests"
    }


async def test_replaying_every_event_into_an_empty_replica_rebuilds_the_space(world, replica_b):
    await _every_kind_of_change(world)
    events = await _events(world)

    await replica_b.service.replay(world.space_id, events[:5])
    await replica_b.service.replay(world.space_id, events)  # overlapping batches: applied once, by seq

    assert await replica_b.state() == await world.state()
    assert await _events(replica_b) == events


async def test_replay_refuses_a_gap_and_events_of_another_space(world, replica_b):
    await _every_kind_of_change(world)
    events = await _events(world)
    with pytest.raises(InvalidState, match="events are missing"):
        await replica_b.service.replay(world.space_id, events[2:])
    foreign = events[0].model_copy(update={"space_id": "another-space"})
    with pytest.raises(ValidationFailed, match="belongs to space another-space"):
        await replica_b.service.replay(world.space_id, [foreign])
    assert await replica_b.seq() == 0


async def test_a_command_retried_after_a_handoff_is_still_a_duplicate(world, replica_b):
    await world.create_asset("Before")
    snapshot = await world.service.snapshot(world.space_id)
    command = world.command(CreateAsset, name="Retried", asset_type="item")
    first = await world.service.apply(command)
    await replica_b.service.restore(world.space_id, snapshot)
    await replica_b.service.replay(world.space_id, await _events(world, since=snapshot.seq))

    retried = await replica_b.service.apply(command)

    assert retried.duplicate and (retried.seq, retried.events) == (first.seq, first.events)
    assert [asset.name for asset in (await replica_b.state()).assets] == ["Before", "Retried"]


async def test_a_snapshot_restores_only_its_own_space(world, replica_b, tmp_path):
    await world.create_asset()
    snapshot = await world.service.snapshot(world.space_id)
    with pytest.raises(ValidationFailed):
        await replica_b.service.restore("other-space", snapshot)
    disguised = SnapshotFile(space_id="other-space", seq=snapshot.seq, path=snapshot.path)
    with pytest.raises(ValidationFailed, match=f"snapshot of space {world.space_id}"):
        await replica_b.service.restore("other-space", disguised)


async def test_restoring_over_an_open_space_replaces_it(world, replica_b):
    await world.create_asset("Original")
    snapshot = await world.service.snapshot(world.space_id)
    await replica_b.create_asset("Local only")
    assert replica_b.spaces.is_open(world.space_id)

    await replica_b.service.restore(world.space_id, snapshot)

    assert [asset.name for asset in (await replica_b.state()).assets] == ["Original"]
