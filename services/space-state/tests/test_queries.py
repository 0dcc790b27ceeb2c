"""Queries: the full state, events since a seq, one asset's detail."""

from __future__ import annotations

import json

import pytest

from makefx_contracts.errors import NotFound
from makefx_contracts.space import (
    AssetChanges,
    DeleteAsset,
    ForkAsset,
    GetAsset,
    GetEventsSince,
    GetSpaceState,
    SpaceSnapshot,
    UpdateAsset,
)
from makefx_space_state.publisher import BusEventPublisher


async def _populated(world):
    """Two live assets with variants and a fork between them, plus a deleted asset with a variant."""
    hero = await world.create_asset("Hero")
    source = await world.add_variant(hero.id)
    await world.add_variant(hero.id)
    forked = (await world.apply(ForkAsset, source_variant_id=source.id, name="Fork", asset_type="item")).events[0]
    gone = await world.create_asset("Gone")
    gone_variant = await world.add_variant(gone.id)
    await world.apply(ForkAsset, source_variant_id=gone_variant.id, name="From gone", asset_type="item")
    await world.apply(DeleteAsset, asset_id=gone.id)
    return hero, forked, gone


async def test_state_holds_live_assets_their_variants_and_the_lineage_among_them(world):
    _, forked, _ = await _populated(world)

    state = await world.state()

    assert {asset.name for asset in state.assets} == {"Hero", "Fork", "From gone"}
    live_ids = {asset.id for asset in state.assets}
    assert all(variant.asset_id in live_ids for variant in state.variants) and len(state.variants) == 4
    assert state.lineage == [forked.lineage]  # the link from the deleted asset's variant is not among them
    assert state.seq == (await world.service.get_events_since(GetEventsSince(space_id=world.space_id, since_seq=0))).seq
    assert state.seq == 8


async def test_state_json_built_by_sqlite_equals_the_model_snapshot(world):
    await _populated(world)
    await world.apply(UpdateAsset, asset_id=(await world.state()).assets[0].id, changes=AssetChanges(tags=["ü", "x"]))

    wire = await world.service.state_json(world.space_id)

    model = await world.state()
    assert json.loads(wire) == json.loads(model.model_dump_json())
    assert SpaceSnapshot.model_validate_json(wire) == model


async def test_state_of_a_new_space_is_empty_at_seq_zero(world):
    state = await world.service.get_state(GetSpaceState(space_id=world.space_id))
    assert (state.seq, state.assets, state.variants, state.lineage) == (0, [], [], [])
    assert SpaceSnapshot.model_validate_json(await world.service.state_json(world.space_id)) == state


async def test_events_since_returns_the_log_after_a_seq_as_committed(world):
    replies = [await world.create_asset(f"A{i}") for i in range(5)]

    since = await world.service.get_events_since(GetEventsSince(space_id=world.space_id, since_seq=2))

    assert since.complete and since.seq == 5
    assert [event.seq for event in since.events] == [3, 4, 5]
    assert [event.asset for event in since.events] == replies[2:]
    page = await world.service.get_events_since(GetEventsSince(space_id=world.space_id, since_seq=0, limit=2))
    assert [event.seq for event in page.events] == [1, 2] and page.seq == 5 and page.complete
    latest = await world.service.get_events_since(GetEventsSince(space_id=world.space_id, since_seq=5))
    assert latest.complete and latest.events == []


async def test_events_since_a_seq_the_space_never_reached_is_incomplete(world):
    await world.create_asset()
    ahead = await world.service.get_events_since(GetEventsSince(space_id=world.space_id, since_seq=7))
    assert (ahead.complete, ahead.events, ahead.seq) == (False, [], 1)


async def test_with_retention_old_events_are_trimmed_and_reported_incomplete(tmp_path, bus, make_world):
    world = make_world(tmp_path / "replica", BusEventPublisher(bus), keep_events=3)
    for i in range(6):
        await world.create_asset(f"A{i}")
    await world.spaces.close(world.space_id)  # trimming runs when a space opens

    old = await world.service.get_events_since(GetEventsSince(space_id=world.space_id, since_seq=1))
    recent = await world.service.get_events_since(GetEventsSince(space_id=world.space_id, since_seq=3))

    assert (old.complete, old.events, old.seq) == (False, [], 6)
    assert recent.complete and [event.seq for event in recent.events] == [4, 5, 6]
    await world.create_asset("After")
    assert await world.seq() == 7  # seq continues after trimming


async def test_asset_detail_holds_all_its_variants_and_every_link_touching_them(world):
    hero, forked, _ = await _populated(world)

    detail = await world.service.get_asset(GetAsset(space_id=world.space_id, asset_id=hero.id))

    assert detail.asset.id == hero.id and len(detail.variants) == 2
    assert detail.lineage == [forked.lineage]
    assert detail.seq == await world.seq()
    fork_detail = await world.service.get_asset(GetAsset(space_id=world.space_id, asset_id=forked.asset.id))
    assert fork_detail.variants == [forked.variant] and fork_detail.lineage == [forked.lineage]


async def test_asset_detail_of_a_deleted_or_missing_asset_is_not_found(world):
    _, _, gone = await _populated(world)
    for asset_id in (gone.id, "missing"):
        with pytest.raises(NotFound):
            await world.service.get_asset(GetAsset(space_id=world.space_id, asset_id=asset_id))
