"""Commands through the service: a command in, rows and events out, on real SQLite files and a real bus."""

from __future__ import annotations

import asyncio
import json
import sqlite3

import pytest

from makefx_contracts.errors import InvalidState, NotFound, PermissionDenied, ValidationFailed
from makefx_contracts.events import (
    AssetCreated,
    AssetDeleted,
    AssetForked,
    AssetUpdated,
    LineageSevered,
    VariantDeleted,
    VariantUpdated,
)
from makefx_contracts.rows import LineageRelation, LineageRow, MediaKind, VariantStatus
from makefx_contracts.space import (
    AssetChanges,
    CreateAsset,
    DeleteAsset,
    DeleteVariant,
    ForkAsset,
    GetAsset,
    GetEventsSince,
    Position,
    SetActiveVariant,
    SeverLineage,
    StarVariant,
    UpdateAsset,
)
from makefx_space_state.service import now_ms

# -- create --------------------------------------------------------------------------------


async def test_create_asset_commits_the_row_and_an_asset_created_event(world):
    applied = await world.apply(
        CreateAsset, name="Hero", asset_type="character", media_kind="audio", position=Position(x=10, y=-4.5)
    )

    assert applied.seq == 1 and not applied.duplicate
    [event] = applied.events
    assert isinstance(event, AssetCreated)
    assert (event.seq, event.space_id, event.actor_id) == (1, world.space_id, world.owner.user_id)
    asset = event.asset
    assert (asset.name, asset.type, asset.media_kind, asset.position_x, asset.position_y, asset.tags) == (
        "Hero",
        "character",
        MediaKind.AUDIO,
        10.0,
        -4.5,
        "[]",
    )
    assert len(asset.id) == 32 and asset.created_by == world.owner.user_id
    assert abs(asset.created_at - now_ms()) < 60_000 and asset.deleted_at is None
    assert (await world.state()).assets == [asset]


async def test_editor_can_create_but_viewer_is_refused(world):
    await world.apply(CreateAsset, world.editor, name="By editor", asset_type="scene")
    with pytest.raises(PermissionDenied, match="editor or owner"):
        await world.apply(CreateAsset, world.viewer, name="By viewer", asset_type="scene")
    assert [asset.name for asset in (await world.state()).assets] == ["By editor"]


async def test_create_under_a_missing_or_deleted_parent_is_not_found(world):
    with pytest.raises(NotFound, match="parent asset nope"):
        await world.create_asset("Child", parent_asset_id="nope")
    parent = await world.create_asset("Parent")
    await world.apply(DeleteAsset, asset_id=parent.id)
    with pytest.raises(NotFound):
        await world.create_asset("Child", parent_asset_id=parent.id)


async def test_create_under_a_live_parent_links_it(world):
    parent = await world.create_asset("Parent")
    child = await world.create_asset("Child", parent_asset_id=parent.id)
    assert child.parent_asset_id == parent.id


# -- update --------------------------------------------------------------------------------


async def test_update_changes_only_the_fields_sent(world):
    parent = await world.create_asset("Parent")
    asset = await world.create_asset("Hero", parent_asset_id=parent.id, position=Position(x=1, y=2))

    applied = await world.apply(UpdateAsset, asset_id=asset.id, changes=AssetChanges(name="Renamed", tags=["a", "b"]))

    [event] = applied.events
    assert isinstance(event, AssetUpdated)
    updated = event.asset
    assert (updated.name, json.loads(updated.tags)) == ("Renamed", ["a", "b"])
    assert (updated.type, updated.parent_asset_id, updated.position_x, updated.position_y) == (
        "character",
        parent.id,
        1.0,
        2.0,
    )
    assert updated.updated_at >= asset.created_at


async def test_update_with_parent_null_detaches_and_position_moves(world):
    parent = await world.create_asset("Parent")
    asset = await world.create_asset("Hero", parent_asset_id=parent.id)
    changes = AssetChanges.model_validate({"parentAssetId": None, "position": {"x": 5, "y": 6}, "type": "item"})

    [event] = (await world.apply(UpdateAsset, asset_id=asset.id, changes=changes)).events

    assert (event.asset.parent_asset_id, event.asset.position_x, event.asset.position_y, event.asset.type) == (
        None,
        5.0,
        6.0,
        "item",
    )


async def test_update_refuses_self_parent_and_cycles(world):
    grandparent = await world.create_asset("Grandparent")
    parent = await world.create_asset("Parent", parent_asset_id=grandparent.id)
    child = await world.create_asset("Child", parent_asset_id=parent.id)

    with pytest.raises(ValidationFailed, match="its own parent"):
        await world.apply(UpdateAsset, asset_id=parent.id, changes=AssetChanges(parent_asset_id=parent.id))
    with pytest.raises(ValidationFailed, match="cycle"):
        await world.apply(UpdateAsset, asset_id=grandparent.id, changes=AssetChanges(parent_asset_id=child.id))
    with pytest.raises(ValidationFailed, match="cycle"):
        await world.apply(UpdateAsset, asset_id=parent.id, changes=AssetChanges(parent_asset_id=child.id))
    # Moving a subtree elsewhere is fine.
    other = await world.create_asset("Other")
    await world.apply(UpdateAsset, asset_id=parent.id, changes=AssetChanges(parent_asset_id=other.id))


async def test_update_of_missing_or_deleted_asset_or_parent_is_not_found(world):
    with pytest.raises(NotFound, match="asset missing"):
        await world.apply(UpdateAsset, asset_id="missing", changes=AssetChanges(name="x"))
    asset = await world.create_asset()
    with pytest.raises(NotFound, match="parent asset gone"):
        await world.apply(UpdateAsset, asset_id=asset.id, changes=AssetChanges(parent_asset_id="gone"))
    await world.apply(DeleteAsset, asset_id=asset.id)
    with pytest.raises(NotFound):
        await world.apply(UpdateAsset, asset_id=asset.id, changes=AssetChanges(name="x"))


async def test_viewer_cannot_update(world):
    asset = await world.create_asset()
    with pytest.raises(PermissionDenied):
        await world.apply(UpdateAsset, world.viewer, asset_id=asset.id, changes=AssetChanges(name="x"))


# -- delete asset --------------------------------------------------------------------------


async def test_owner_deletes_an_asset_softly_and_its_children_move_to_the_top(world):
    parent = await world.create_asset("Parent")
    child = await world.create_asset("Child", parent_asset_id=parent.id)
    await world.add_variant(parent.id)

    applied = await world.apply(DeleteAsset, asset_id=parent.id)

    detached, deleted = applied.events
    assert isinstance(detached, AssetUpdated) and detached.asset.id == child.id
    assert detached.asset.parent_asset_id is None
    assert isinstance(deleted, AssetDeleted) and deleted.asset_id == parent.id
    state = await world.state()
    assert [asset.id for asset in state.assets] == [child.id]
    assert state.variants == []  # the deleted asset's variants are hidden with it
    row = sqlite3.connect(world.files.space_path(world.space_id)).execute(
        "SELECT deleted_at, updated_at FROM assets WHERE id = ?", (parent.id,)
    )
    assert row.fetchone() == (deleted.at, deleted.at)


async def test_only_the_owner_deletes_an_asset(world):
    asset = await world.create_asset()
    for actor in (world.editor, world.viewer):
        with pytest.raises(PermissionDenied, match="owner"):
            await world.apply(DeleteAsset, actor, asset_id=asset.id)
    with pytest.raises(NotFound):
        await world.apply(DeleteAsset, asset_id="missing")
    await world.apply(DeleteAsset, asset_id=asset.id)
    with pytest.raises(NotFound):
        await world.apply(DeleteAsset, asset_id=asset.id)


# -- active variant ------------------------------------------------------------------------


async def test_set_active_variant_points_the_asset_at_a_completed_variant_of_its_own(world):
    asset = await world.create_asset()
    variant = await world.add_variant(asset.id)

    [event] = (await world.apply(SetActiveVariant, world.editor, asset_id=asset.id, variant_id=variant.id)).events

    assert isinstance(event, AssetUpdated) and event.asset.active_variant_id == variant.id
    again = await world.apply(SetActiveVariant, asset_id=asset.id, variant_id=variant.id)
    assert again.events == []  # already active: nothing to commit


async def test_set_active_variant_refuses_pending_foreign_and_missing_variants(world):
    asset = await world.create_asset()
    other = await world.create_asset("Other")
    pending = await world.add_variant(asset.id, VariantStatus.PENDING)
    foreign = await world.add_variant(other.id)

    with pytest.raises(InvalidState, match=r"completed variant.*is pending"):
        await world.apply(SetActiveVariant, asset_id=asset.id, variant_id=pending.id)
    with pytest.raises(ValidationFailed, match=f"belongs to asset {other.id}"):
        await world.apply(SetActiveVariant, asset_id=asset.id, variant_id=foreign.id)
    with pytest.raises(NotFound, match="variant nope"):
        await world.apply(SetActiveVariant, asset_id=asset.id, variant_id="nope")
    with pytest.raises(NotFound, match="asset nope"):
        await world.apply(SetActiveVariant, asset_id="nope", variant_id=pending.id)
    with pytest.raises(PermissionDenied):
        await world.apply(SetActiveVariant, world.viewer, asset_id=asset.id, variant_id=foreign.id)


# -- fork ----------------------------------------------------------------------------------


async def test_fork_copies_a_completed_variant_into_a_new_asset_with_forked_lineage(world):
    source_asset = await world.create_asset("Source", position=Position(x=100, y=50))
    source = await world.add_variant(source_asset.id)
    parent = await world.create_asset("Folder")

    applied = await world.apply(
        ForkAsset, world.editor, source_variant_id=source.id, name="Fork", asset_type="item", parent_asset_id=parent.id
    )

    [event] = applied.events
    assert isinstance(event, AssetForked)
    asset, variant, lineage = event.asset, event.variant, event.lineage
    assert (asset.name, asset.type, asset.parent_asset_id, asset.active_variant_id) == (
        "Fork",
        "item",
        parent.id,
        variant.id,
    )
    assert asset.media_kind == source.media_kind and (asset.position_x, asset.position_y) == (140.0, 90.0)
    assert variant.asset_id == asset.id and variant.id != source.id
    assert (variant.image_key, variant.thumb_key, variant.media_key, variant.recipe, variant.status) == (
        source.image_key,
        source.thumb_key,
        source.media_key,
        source.recipe,
        VariantStatus.COMPLETED,
    )
    assert (variant.workflow_id, variant.starred, variant.created_by) == (None, 0, world.editor.user_id)
    assert (lineage.parent_variant_id, lineage.child_variant_id, lineage.relation_type, lineage.severed) == (
        source.id,
        variant.id,
        LineageRelation.FORKED,
        0,
    )
    state = await world.state()
    assert lineage in state.lineage and variant in state.variants and asset in state.assets


async def test_fork_refuses_unfinished_missing_and_viewer(world):
    asset = await world.create_asset()
    processing = await world.add_variant(asset.id, VariantStatus.PROCESSING)
    done = await world.add_variant(asset.id)
    with pytest.raises(InvalidState, match="forking needs a completed variant"):
        await world.apply(ForkAsset, source_variant_id=processing.id, name="F", asset_type="item")
    with pytest.raises(NotFound):
        await world.apply(ForkAsset, source_variant_id="nope", name="F", asset_type="item")
    with pytest.raises(NotFound, match="parent asset nope"):
        await world.apply(ForkAsset, source_variant_id=done.id, name="F", asset_type="item", parent_asset_id="nope")
    with pytest.raises(PermissionDenied):
        await world.apply(ForkAsset, world.viewer, source_variant_id=done.id, name="F", asset_type="item")


# -- star ----------------------------------------------------------------------------------


async def test_star_sets_the_flag_and_starring_twice_changes_nothing(world):
    asset = await world.create_asset()
    variant = await world.add_variant(asset.id)

    [event] = (await world.apply(StarVariant, world.editor, variant_id=variant.id, starred=True)).events
    assert isinstance(event, VariantUpdated) and event.variant.starred == 1

    assert (await world.apply(StarVariant, variant_id=variant.id, starred=True)).events == []
    [event] = (await world.apply(StarVariant, variant_id=variant.id, starred=False)).events
    assert event.variant.starred == 0
    with pytest.raises(NotFound):
        await world.apply(StarVariant, variant_id="nope", starred=True)
    with pytest.raises(PermissionDenied):
        await world.apply(StarVariant, world.viewer, variant_id=variant.id, starred=True)


# -- delete variant ------------------------------------------------------------------------


async def test_deleting_the_active_variant_makes_the_newest_completed_one_active(world):
    asset = await world.create_asset()
    older = await world.add_variant(asset.id, created_at=1_000)
    newer = await world.add_variant(asset.id, created_at=2_000)
    await world.add_variant(asset.id, VariantStatus.FAILED, created_at=3_000)
    active = await world.add_variant(asset.id, created_at=4_000)
    await world.apply(SetActiveVariant, asset_id=asset.id, variant_id=active.id)

    updated, deleted = (await world.apply(DeleteVariant, variant_id=active.id)).events

    assert isinstance(updated, AssetUpdated) and updated.asset.active_variant_id == newer.id
    assert isinstance(deleted, VariantDeleted) and deleted.variant_id == active.id
    [event] = (await world.apply(DeleteVariant, variant_id=older.id)).events  # not active: no asset change
    assert isinstance(event, VariantDeleted)
    updated, _ = (await world.apply(DeleteVariant, variant_id=newer.id)).events
    assert updated.asset.active_variant_id is None  # only a failed one is left


async def test_deleting_a_variant_keeps_its_lineage_for_audit(world):
    asset = await world.create_asset()
    source = await world.add_variant(asset.id)
    fork = (await world.apply(ForkAsset, source_variant_id=source.id, name="F", asset_type="item")).events[0]

    await world.apply(DeleteVariant, variant_id=source.id)

    rows = sqlite3.connect(world.files.space_path(world.space_id)).execute("SELECT id FROM lineage").fetchall()
    assert rows == [(fork.lineage.id,)]
    assert (await world.state()).lineage == []  # no longer among the live variants
    detail = await world.service.get_asset(GetAsset(space_id=world.space_id, asset_id=fork.asset.id))
    assert detail.lineage == [fork.lineage]


async def test_only_the_owner_deletes_a_variant(world):
    asset = await world.create_asset()
    variant = await world.add_variant(asset.id)
    for actor in (world.editor, world.viewer):
        with pytest.raises(PermissionDenied, match="deleting a variant needs the owner"):
            await world.apply(DeleteVariant, actor, variant_id=variant.id)
    await world.apply(DeleteVariant, variant_id=variant.id)
    with pytest.raises(NotFound):
        await world.apply(DeleteVariant, variant_id=variant.id)


# -- sever ---------------------------------------------------------------------------------


async def test_severing_marks_the_link_and_severing_twice_is_invalid_state(world):
    asset = await world.create_asset()
    source = await world.add_variant(asset.id)
    lineage: LineageRow = (
        (await world.apply(ForkAsset, source_variant_id=source.id, name="F", asset_type="item")).events[0].lineage
    )

    [event] = (await world.apply(SeverLineage, world.editor, lineage_id=lineage.id)).events

    assert isinstance(event, LineageSevered) and event.lineage_id == lineage.id
    assert [row.severed for row in (await world.state()).lineage] == [1]
    with pytest.raises(InvalidState, match="already severed"):
        await world.apply(SeverLineage, lineage_id=lineage.id)
    with pytest.raises(NotFound):
        await world.apply(SeverLineage, lineage_id="nope")
    with pytest.raises(PermissionDenied):
        await world.apply(SeverLineage, world.viewer, lineage_id=lineage.id)


# -- idempotency and order -----------------------------------------------------------------


async def test_a_retried_request_returns_the_first_reply_and_changes_nothing(world):
    command = world.command(CreateAsset, name="Once", asset_type="item")
    first = await world.service.apply(command)

    retried = await world.service.apply(command)

    assert retried.duplicate and not first.duplicate
    assert (retried.seq, retried.events) == (first.seq, first.events)
    state = await world.state()
    assert [asset.name for asset in state.assets] == ["Once"] and state.seq == first.seq
    events = await world.service.get_events_since(GetEventsSince(space_id=world.space_id, since_seq=0))
    assert [event.seq for event in events.events] == [1]


async def test_a_refused_command_records_nothing_so_its_retry_is_judged_again(world):
    asset = await world.create_asset()
    command = world.command(UpdateAsset, world.viewer, asset_id=asset.id, changes=AssetChanges(name="x"))
    with pytest.raises(PermissionDenied):
        await world.service.apply(command)
    with pytest.raises(PermissionDenied):
        await world.service.apply(command)
    assert await world.seq() == 1


async def test_seq_is_gap_free_across_many_concurrent_commands(world):
    asset = await world.create_asset()
    variant = await world.add_variant(asset.id)
    commands = [world.command(CreateAsset, name=f"A{i}", asset_type="item") for i in range(40)]
    commands += [world.command(StarVariant, variant_id=variant.id, starred=i % 2 == 0) for i in range(20)]
    commands += [world.command(UpdateAsset, asset_id=asset.id, changes=AssetChanges(name=f"N{i}")) for i in range(20)]

    results = await asyncio.gather(*(world.service.apply(command) for command in commands))

    seqs = sorted(event.seq for applied in results for event in applied.events)
    assert seqs == list(range(3, 3 + len(seqs)))
    assert await world.seq() == 2 + len(seqs)
    log = await world.service.get_events_since(GetEventsSince(space_id=world.space_id, since_seq=0))
    assert [event.seq for event in log.events] == list(range(1, 3 + len(seqs)))


async def test_invalid_space_ids_are_refused_before_touching_the_disk(world):
    for bad in ("../etc", "a.b", "a*", "", "x" * 200):
        with pytest.raises(ValidationFailed):
            await world.service.apply(
                CreateAsset(space_id=bad, request_id="r", actor=world.owner, name="x", asset_type="item")
            )
    assert not (world.data_dir / "spaces").exists()


async def test_the_recorded_reply_is_exactly_the_applied_reply(world):
    asset = await world.create_asset()
    variant = await world.add_variant(asset.id)
    await world.apply(SetActiveVariant, asset_id=asset.id, variant_id=variant.id)
    command = world.command(DeleteVariant, variant_id=variant.id)  # two events in one reply
    applied = await world.service.apply(command)

    row = sqlite3.connect(world.files.space_path(world.space_id)).execute(
        "SELECT seq_from, seq_to, reply FROM applied_requests WHERE request_id = ?", (command.request_id,)
    )
    seq_from, seq_to, reply = row.fetchone()

    assert (seq_from, seq_to) == (applied.events[0].seq, applied.events[-1].seq)
    assert json.loads(reply) == json.loads(applied.model_dump_json())
