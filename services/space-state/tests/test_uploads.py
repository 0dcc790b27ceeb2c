"""Uploads on the owner: the `uploading` placeholder, its end through CompleteVariant/FailVariant, and the expiry."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from makefx_bus import Bus
from makefx_contracts.errors import InvalidState, NotFound, PermissionDenied, ValidationFailed
from makefx_contracts.rows import MediaKind, VariantStatus
from makefx_contracts.space import CompletedMedia, CompleteVariant, CreateUpload, FailVariant, GetVariant, RetryVariant
from makefx_space_state.publisher import BusEventPublisher
from makefx_space_state.uploads import NEVER_FINISHED

from .conftest import EDITOR, VIEWER, SpaceWorld


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000_000

    def __call__(self) -> int:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def world(tmp_path: Path, bus: Bus, make_world, clock: Clock) -> SpaceWorld:
    return make_world(tmp_path / "replica", BusEventPublisher(bus), clock=clock)


async def upload(world: SpaceWorld, **fields):
    fields = {"filename": "fox.png", "content_type": "image/png", "size_bytes": 1234, **fields}
    applied = await world.apply(CreateUpload, EDITOR, **fields)
    variant = next(event.variant for event in applied.events if event.type == "variant:created")
    return applied, variant


async def test_an_upload_creates_its_asset_and_an_uploading_placeholder_recording_the_file(world: SpaceWorld):
    applied, variant = await upload(world, name="Fox")

    assert [event.type for event in applied.events] == ["asset:created", "variant:created"]
    asset = applied.events[0].asset
    assert asset.name == "Fox" and variant.asset_id == asset.id
    assert variant.status is VariantStatus.UPLOADING
    assert variant.workflow_id == f"{variant.id}:1"
    assert json.loads(variant.recipe) == {
        "operation": "upload",
        "filename": "fox.png",
        "contentType": "image/png",
        "sizeBytes": 1234,
        "mediaKind": "image",
    }


async def test_an_upload_to_an_existing_asset_adds_only_a_variant(world: SpaceWorld):
    hero = await world.create_asset("Hero")

    applied, variant = await upload(world, asset_id=hero.id)

    assert [event.type for event in applied.events] == ["variant:created"]
    assert variant.asset_id == hero.id


async def test_an_upload_to_an_asset_of_another_media_kind_is_refused(world: SpaceWorld):
    hero = await world.create_asset("Hero")

    with pytest.raises(ValidationFailed):
        await upload(world, asset_id=hero.id, media_kind=MediaKind.VIDEO, content_type="video/mp4")


async def test_a_viewer_cannot_upload(world: SpaceWorld):
    with pytest.raises(PermissionDenied):
        await world.apply(CreateUpload, VIEWER, filename="a.png", content_type="image/png", size_bytes=1)


async def test_complete_variant_at_attempt_one_completes_an_upload_and_makes_it_active(world: SpaceWorld):
    _, variant = await upload(world)
    media = CompletedMedia(media_key=f"images/s/{variant.id}.png", mime_type="image/png", size_bytes=1234)

    applied = await world.apply(CompleteVariant, EDITOR, variant_id=variant.id, attempt=1, media=media)

    types = [event.type for event in applied.events]
    assert types == ["variant:updated", "asset:updated", "generate:result"]
    assert applied.events[0].variant.status is VariantStatus.COMPLETED
    assert applied.events[1].asset.active_variant_id == variant.id


async def test_a_failed_upload_keeps_its_reason_and_cannot_be_retried(world: SpaceWorld):
    _, variant = await upload(world)
    reason = "fox.png is application/x-executable, not an image"

    applied = await world.apply(FailVariant, EDITOR, variant_id=variant.id, attempt=1, error_message=reason)

    assert applied.events[0].variant.status is VariantStatus.FAILED
    assert applied.events[0].variant.error_message == reason
    with pytest.raises(InvalidState):
        await world.apply(RetryVariant, EDITOR, variant_id=variant.id)


async def test_an_upload_never_finished_is_failed_once_older_than_the_expiry(world: SpaceWorld, clock: Clock):
    _, old = await upload(world)
    clock.now += 10_000
    _, recent = await upload(world)
    clock.now += 5_000

    assert await world.service.expire_uploads(max_age_ms=8_000) == [(world.space_id, old.id)]
    assert await world.service.expire_uploads(max_age_ms=8_000) == []  # already failed: nothing again

    variants = {variant.id: variant for variant in (await world.state()).variants}
    assert variants[old.id].status is VariantStatus.FAILED
    assert variants[old.id].error_message == NEVER_FINISHED
    assert variants[recent.id].status is VariantStatus.UPLOADING


async def test_get_variant_answers_a_live_variant_and_not_found_for_an_unknown_one(world: SpaceWorld):
    _, variant = await upload(world)

    detail = await world.service.get_variant(GetVariant(space_id=world.space_id, variant_id=variant.id))

    assert detail.variant == variant
    with pytest.raises(NotFound):
        await world.service.get_variant(GetVariant(space_id=world.space_id, variant_id="nope"))
