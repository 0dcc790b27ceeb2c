"""Generation commands on the owner: placeholder variants, lineage, the job in GEN_JOBS, and the variant lifecycle."""

from __future__ import annotations

import json
from pathlib import Path

import nats.js.errors
import pytest

from makefx_bus import Bus
from makefx_contracts.errors import InvalidState, PermissionDenied, Unavailable, ValidationFailed
from makefx_contracts.generation import GenerationJob
from makefx_contracts.rows import VariantStatus
from makefx_contracts.space import (
    CancelVariant,
    CompletedMedia,
    CompleteVariant,
    FailVariant,
    MarkVariantUploading,
    RefineVariant,
    RetryVariant,
    StartGeneration,
)
from makefx_contracts.subjects import GENERATION_JOBS, STREAM_GENERATION_JOBS
from makefx_space_state.errors import PublishFailed
from makefx_space_state.publisher import BusEventPublisher, BusJobPublisher

from .conftest import EDITOR, VIEWER, SpaceWorld


@pytest.fixture
def world(tmp_path: Path, bus: Bus, make_world) -> SpaceWorld:
    return make_world(tmp_path / "replica", BusEventPublisher(bus), jobs=BusJobPublisher(bus))


async def jobs_for(bus: Bus, variant_id: str, media_kind: str = "image") -> list[tuple[str, GenerationJob]]:
    """Every job GEN_JOBS holds for a variant, with its Nats-Msg-Id, in order."""
    found = []
    seq = 1
    while True:
        try:
            message = await bus.js.get_msg(
                STREAM_GENERATION_JOBS, seq=seq, subject=GENERATION_JOBS.fill(media_kind=media_kind), next=True
            )
        except nats.js.errors.NotFoundError:
            return found
        job = GenerationJob.model_validate_json(message.data)
        if job.variant_id == variant_id:
            found.append((message.headers["Nats-Msg-Id"], job))
        seq = message.seq + 1


def media(variant_id: str) -> CompletedMedia:
    return CompletedMedia(
        media_key=f"images/s/{variant_id}.png",
        image_key=f"images/s/{variant_id}.png",
        thumb_key=f"images/s/{variant_id}_thumb.webp",
        mime_type="image/png",
        size_bytes=1234,
        width=64,
        height=64,
    )


async def generate(world: SpaceWorld, **fields):
    fields = {"name": "Fox", "asset_type": "character", "prompt": "a red fox", **fields}
    applied = await world.apply(StartGeneration, EDITOR, **fields)
    variant = next(event.variant for event in applied.events if event.type == "variant:created")
    return applied, variant


async def test_a_generation_commits_the_asset_placeholder_and_lineage_then_queues_one_job_and_marks_it_processing(
    world: SpaceWorld, bus: Bus
):
    hero = await world.create_asset("Hero")
    reference = await world.add_variant(hero.id)

    applied, variant = await generate(
        world, reference_variant_ids=[reference.id], options={"width": 320, "height": 200}
    )

    assert [event.type for event in applied.events] == [
        "asset:created",
        "variant:created",
        "lineage:created",
        "variant:updated",
    ]
    assert variant.status is VariantStatus.PENDING and variant.workflow_id == f"{variant.id}:1"
    recipe = json.loads(variant.recipe)
    assert recipe == {
        "operation": "generate",
        "prompt": "a red fox",
        "model": "gemini-3.1-flash-image",
        "provider": "gemini",
        "mediaKind": "image",
        "assetType": "character",
        "referenceVariantIds": [reference.id],
        "options": {"width": 320, "height": 200},
    }
    lineage = applied.events[2].lineage
    assert (lineage.parent_variant_id, lineage.child_variant_id, lineage.relation_type) == (
        reference.id,
        variant.id,
        "derived",
    )
    assert applied.events[3].variant.status is VariantStatus.PROCESSING
    [(msg_id, job)] = await jobs_for(bus, variant.id)
    assert msg_id == f"{variant.id}:1"
    assert (job.attempt, job.space_id, job.asset_id, job.actor) == (1, world.space_id, variant.asset_id, EDITOR)
    assert job.recipe == recipe


async def test_an_elevenlabs_speech_with_dialogue_voices_is_queued_with_them_in_its_recipe(world: SpaceWorld, bus: Bus):
    options = {"dialogueVoiceIds": ["a", "b"]}

    _, variant = await generate(
        world, name="Chat", media_kind="audio", asset_type="speech", model="elevenlabs", options=options
    )

    recipe = json.loads(variant.recipe)
    assert (recipe["model"], recipe["provider"], recipe["assetType"]) == ("elevenlabs", "elevenlabs", "speech")
    assert recipe["options"] == options
    [(msg_id, job)] = await jobs_for(bus, variant.id, media_kind="audio")
    assert msg_id == f"{variant.id}:1" and job.recipe["options"] == options
    with pytest.raises(ValidationFailed, match="options for elevenlabs") as refused:
        await generate(world, media_kind="audio", asset_type="speech", options={"dialogueVoiceIds": ["a"]})
    assert refused.value.details == {"model": "elevenlabs", "path": "dialogueVoiceIds"}


async def test_the_same_request_again_changes_nothing_and_queues_no_second_job(world: SpaceWorld, bus: Bus):
    command = world.command(StartGeneration, EDITOR, name="Fox", asset_type="character", prompt="a fox")
    first = await world.service.apply(command)
    again = await world.service.apply(command)

    assert again.duplicate and again.events == first.events[:2]
    variant_id = first.events[1].variant.id
    assert len(await jobs_for(bus, variant_id)) == 1
    assert len((await world.state()).variants) == 1


async def test_completion_sets_the_media_makes_it_the_assets_variant_and_repeats_harmlessly(world: SpaceWorld):
    _, variant = await generate(world)
    report = {"variant_id": variant.id, "attempt": 1}
    await world.apply(MarkVariantUploading, EDITOR, **report)

    done = await world.apply(CompleteVariant, EDITOR, **report, media=media(variant.id), provenance={"prompt": "x"})
    again = await world.apply(CompleteVariant, EDITOR, **report, media=media(variant.id))

    assert [event.type for event in done.events] == ["variant:updated", "asset:updated", "generate:result"]
    completed = done.events[0].variant
    assert completed.status is VariantStatus.COMPLETED and completed.media_width == 64
    assert json.loads(completed.generation_provenance) == {"prompt": "x"}
    assert done.events[1].asset.active_variant_id == variant.id
    assert done.events[2].status is VariantStatus.COMPLETED
    assert again.events == []


async def test_a_report_for_another_attempt_is_refused(world: SpaceWorld):
    _, variant = await generate(world)

    with pytest.raises(InvalidState, match="attempt 2 of variant"):
        await world.apply(CompleteVariant, EDITOR, variant_id=variant.id, attempt=2, media=media(variant.id))


async def test_only_a_failed_variant_is_retried_and_the_retry_queues_the_next_attempt(world: SpaceWorld, bus: Bus):
    _, variant = await generate(world)
    with pytest.raises(InvalidState, match="only a failed variant can be retried"):
        await world.apply(RetryVariant, EDITOR, variant_id=variant.id)

    failed = await world.apply(FailVariant, EDITOR, variant_id=variant.id, attempt=1, error_message="Blocked: unsafe")
    retried = await world.apply(RetryVariant, EDITOR, variant_id=variant.id)

    assert failed.events[0].variant.error_message == "Blocked: unsafe"
    assert failed.events[-1].type == "generate:result" and failed.events[-1].error_message == "Blocked: unsafe"
    pending, processing = retried.events[0].variant, retried.events[1].variant
    assert (pending.status, pending.error_message, pending.workflow_id) == ("pending", None, f"{variant.id}:2")
    assert processing.status is VariantStatus.PROCESSING
    assert [msg_id for msg_id, _ in await jobs_for(bus, variant.id)] == [f"{variant.id}:1", f"{variant.id}:2"]


async def test_a_cancelled_variant_fails_and_its_worker_can_neither_upload_nor_complete(world: SpaceWorld):
    _, variant = await generate(world)

    cancelled = await world.apply(CancelVariant, EDITOR, variant_id=variant.id)

    assert cancelled.events[0].variant.status is VariantStatus.FAILED
    with pytest.raises(InvalidState):
        await world.apply(MarkVariantUploading, EDITOR, variant_id=variant.id, attempt=1)
    with pytest.raises(InvalidState):
        await world.apply(CompleteVariant, EDITOR, variant_id=variant.id, attempt=1, media=media(variant.id))
    with pytest.raises(InvalidState, match="only a pending or processing variant can be cancelled"):
        await world.apply(CancelVariant, EDITOR, variant_id=variant.id)


async def test_a_refinement_adds_a_variant_to_the_source_asset_refined_from_the_source(world: SpaceWorld):
    hero = await world.create_asset("Hero")
    source = await world.add_variant(hero.id)

    applied = await world.apply(RefineVariant, EDITOR, source_variant_id=source.id, prompt="with a hat")

    variant = applied.events[0].variant
    assert variant.asset_id == hero.id and variant.status is VariantStatus.PENDING
    assert applied.events[1].lineage.relation_type == "refined"
    assert applied.events[1].lineage.parent_variant_id == source.id
    assert json.loads(variant.recipe)["sourceVariantId"] == source.id


async def test_viewers_cannot_generate_and_unknown_models_or_bad_options_are_refused(world: SpaceWorld):
    with pytest.raises(PermissionDenied):
        await world.apply(StartGeneration, VIEWER, name="Fox", asset_type="character", prompt="a fox")
    with pytest.raises(ValidationFailed, match="unknown model"):
        await generate(world, model="dall-e")
    with pytest.raises(ValidationFailed, match=r"options for gemini-3\.1-flash-image"):
        await generate(world, options={"width": 10})
    with pytest.raises(ValidationFailed, match="makes image, not audio"):
        await generate(world, media_kind="audio", model="gemini-3-pro-image")
    with pytest.raises(ValidationFailed, match="only makes music"):
        await generate(world, media_kind="audio", asset_type="sfx", model="lyria-002")


class FailingFirst:
    """Queues jobs on the real bus, after refusing the first `failures` like an unreachable JetStream."""

    def __init__(self, bus: Bus, failures: int) -> None:
        self.real = BusJobPublisher(bus)
        self.failures = failures

    async def publish_job(self, job: GenerationJob) -> None:
        if self.failures > 0:
            self.failures -= 1
            raise PublishFailed("JetStream did not answer")
        await self.real.publish_job(job)


async def test_a_job_jetstream_refused_stays_pending_and_is_queued_by_the_next_republish_round(
    tmp_path: Path, bus: Bus, make_world
):
    world = make_world(tmp_path / "replica", BusEventPublisher(bus), jobs=FailingFirst(bus, failures=1))

    with pytest.raises(Unavailable, match="saved but not yet queued"):
        await world.apply(StartGeneration, EDITOR, name="Fox", asset_type="character", prompt="a fox")
    [variant] = (await world.state()).variants
    assert variant.status is VariantStatus.PENDING and await jobs_for(bus, variant.id) == []

    await world.service.publish_pending()

    assert [msg_id for msg_id, _ in await jobs_for(bus, variant.id)] == [f"{variant.id}:1"]
    [variant] = (await world.state()).variants
    assert variant.status is VariantStatus.PROCESSING
    await world.service.publish_pending()
    assert len(await jobs_for(bus, variant.id)) == 1


async def test_a_job_refused_before_a_crash_is_queued_when_the_space_opens_again(tmp_path: Path, bus: Bus, make_world):
    crashed = make_world(tmp_path / "replica", BusEventPublisher(bus), jobs=FailingFirst(bus, failures=1))
    with pytest.raises(Unavailable, match="saved but not yet queued"):
        await crashed.apply(StartGeneration, EDITOR, name="Fox", asset_type="character", prompt="a fox")
    [variant] = (await crashed.state()).variants
    await crashed.spaces.close_all()  # what the replica held in memory is gone; the row stays `pending`

    restarted = make_world(tmp_path / "replica", BusEventPublisher(bus), crashed.space_id, jobs=BusJobPublisher(bus))
    [reopened] = (await restarted.state()).variants

    assert reopened.id == variant.id and reopened.status is VariantStatus.PROCESSING
    [(msg_id, job)] = await jobs_for(bus, variant.id)
    assert msg_id == f"{variant.id}:1" and job.actor.user_id == EDITOR.user_id
    await restarted.spaces.close_all()
    again = make_world(tmp_path / "replica", BusEventPublisher(bus), crashed.space_id, jobs=BusJobPublisher(bus))
    assert (await again.state()).variants == [reopened]
    assert len(await jobs_for(bus, variant.id)) == 1
