"""The generation flow over real sockets and real processes, with the `local` providers."""

from __future__ import annotations

import json

import httpx

from makefx_generation.providers.local import draw_mp4

from .conftest import Peer, Stack, usage_events
from .fakes import (
    FakeServer,
    gemini_error,
    gemini_image,
    gemini_safety_block,
    png_bytes,
    veo_finished,
    veo_running,
    veo_started,
    veo_video,
)

VEO = {"mediaKind": "video", "model": "veo-3.1-generate"}
SMALL_VIDEO = {"videoDurationSeconds": 4, "width": 320, "height": 240}


async def test_an_image_generation_goes_pending_processing_completed_and_the_other_socket_sees_it(stack: Stack):
    space_id, owner, editor = await stack.shared_space()
    alice = await stack.connect(space_id, owner["token"])
    bob = await stack.connect(space_id, editor["token"])

    started = await alice.generate(
        name="Fox", assetType="character", prompt="a red fox in the snow", options={"width": 320, "height": 200}
    )
    variant_id = started["variantId"]
    result = await bob.result(variant_id)

    assert result["status"] == "completed" and result["assetId"] == started["assetId"]
    for peer in (alice, bob):
        await peer.result(variant_id)
        assert peer.variant_states(variant_id) == ["pending", "processing", "uploading", "completed"]
        types = [frame["type"] for frame in peer.frames if frame.get("requestId") == started["requestId"]]
        assert types[:2] == ["asset:created", "variant:created"]
    completed = next(
        frame["variant"]
        for frame in bob.frames
        if frame["type"] == "variant:updated" and frame["variant"]["status"] == "completed"
    )
    assert completed["media_mime_type"] == "image/png"
    assert (completed["media_width"], completed["media_height"]) == (320, 200)
    assert completed["image_key"] == f"images/{space_id}/{variant_id}.png" and completed["thumb_key"]
    assert completed["workflow_id"] == f"{variant_id}:1"
    recipe = json.loads(completed["recipe"])
    assert recipe["model"] == "gemini-3.1-flash-image" and recipe["prompt"] == "a red fox in the snow"
    asset = next(
        frame["asset"]
        for frame in bob.frames
        if frame["type"] == "asset:updated" and frame["asset"]["id"] == started["assetId"]
    )
    assert asset["active_variant_id"] == variant_id

    stored = stack.root / "data" / "media" / completed["image_key"]
    assert stored.read_bytes().startswith(b"\x89PNG")


async def test_the_completed_generation_publishes_one_usage_event_with_the_jobs_id(stack: Stack):
    space_id, owner, _ = await stack.shared_space()
    alice = await stack.connect(space_id, owner["token"])

    started = await alice.generate(
        name="Moon", assetType="scene", prompt="a moon", options={"width": 128, "height": 128}
    )
    assert (await alice.result(started["variantId"]))["status"] == "completed"

    [usage] = await usage_events(stack, 1)
    assert usage["id"] == usage["msgId"] == f"{started['variantId']}:1"
    assert usage["spaceId"] == space_id and usage["kind"] == "generation.image"
    assert (usage["quantity"], usage["unit"], usage["model"], usage["provider"]) == (
        1,
        "image",
        "gemini-3.1-flash-image",
        "local",
    )


async def test_a_failing_provider_fails_the_variant_and_a_retry_completes_it(gemini_stack: Stack, gemini: FakeServer):
    gemini.script(
        gemini_error(500, "Internal error", "INTERNAL"),
        gemini_error(503, "Overloaded", "UNAVAILABLE"),
        gemini_image(png_bytes(96, 64)),
    )
    space_id, owner, editor = await gemini_stack.shared_space()
    alice = await gemini_stack.connect(space_id, owner["token"])
    bob = await gemini_stack.connect(space_id, editor["token"])

    started = await alice.generate(name="Fox", assetType="character", prompt="a red fox")
    variant_id = started["variantId"]
    failed = await bob.result(variant_id)
    assert failed["status"] == "failed" and failed["attempt"] == 1
    assert failed["errorMessage"] == "Gemini is unavailable right now (503 UNAVAILABLE)."

    start = len(bob.frames)
    assert (await bob.call("variant:retry", variantId=variant_id))["type"] == "ack"
    completed = await bob.wait_for(
        lambda frame: frame["type"] == "generate:result" and frame["variantId"] == variant_id, start=start, timeout=60
    )

    assert completed["status"] == "completed" and completed["attempt"] == 2
    await alice.wait_for(
        lambda frame: frame["type"] == "generate:result" and frame["variantId"] == variant_id and frame["attempt"] == 2,
        timeout=60,
    )
    assert alice.variant_states(variant_id) == [
        "pending",
        "processing",
        "failed",
        "pending",
        "processing",
        "uploading",
        "completed",
    ]
    final = [f["variant"] for f in alice.frames if f["type"] == "variant:updated" and f["variant"]["id"] == variant_id]
    assert final[-1]["workflow_id"] == f"{variant_id}:2" and final[-1]["error_message"] is None
    assert (final[-1]["media_width"], final[-1]["media_height"]) == (96, 64)
    assert json.loads(final[-1]["provider_metadata"])["provider"] == "gemini"
    assert len(gemini.requests) == 3
    assert [usage["id"] for usage in await usage_events(gemini_stack, 1)] == [f"{variant_id}:2"]


async def test_retrying_a_variant_that_has_not_failed_is_refused(stack: Stack):
    space_id, owner, _ = await stack.shared_space()
    alice = await stack.connect(space_id, owner["token"])
    started = await alice.generate(name="Moon", assetType="scene", prompt="a moon", options={"width": 64, "height": 64})
    await alice.result(started["variantId"])

    refused = await alice.call("variant:retry", variantId=started["variantId"])

    assert refused["type"] == "error" and refused["code"] == "INVALID_STATE"
    assert "only a failed variant can be retried" in refused["message"]


async def test_a_refinement_is_a_new_variant_of_the_asset_refined_from_its_source_and_derived_from_references(
    stack: Stack,
):
    space_id, owner, editor = await stack.shared_space()
    alice = await stack.connect(space_id, owner["token"])
    bob = await stack.connect(space_id, editor["token"])
    size = {"width": 64, "height": 64}
    hero = await alice.generate(name="Hero", assetType="character", prompt="a hero", options=size)
    cape = await alice.generate(name="Cape", assetType="item", prompt="a red cape", options=size)
    await alice.result(hero["variantId"])
    await alice.result(cape["variantId"])

    refined = await bob.generate(
        "refine:request",
        sourceVariantId=hero["variantId"],
        prompt="the hero wearing the cape",
        referenceVariantIds=[cape["variantId"]],
        options=size,
    )
    result = await alice.result(refined["variantId"])

    assert refined["type"] == "refine:started" and refined["assetId"] == hero["assetId"]
    assert result["status"] == "completed"
    lineage = {
        (frame["lineage"]["parent_variant_id"], frame["lineage"]["relation_type"])
        for frame in alice.frames
        if frame["type"] == "lineage:created" and frame["lineage"]["child_variant_id"] == refined["variantId"]
    }
    assert lineage == {(hero["variantId"], "refined"), (cape["variantId"], "derived")}
    created = next(
        f["variant"]
        for f in alice.frames
        if f["type"] == "variant:created" and f["variant"]["id"] == refined["variantId"]
    )
    recipe = json.loads(created["recipe"])
    assert recipe["operation"] == "refine" and recipe["sourceVariantId"] == hero["variantId"]
    assert recipe["model"] == "gemini-3.1-flash-image"


async def test_audio_of_each_kind_and_video_complete_with_local_files_of_the_asked_duration(stack: Stack):
    space_id, owner, editor = await stack.shared_space()
    alice = await stack.connect(space_id, owner["token"])
    bob = await stack.connect(space_id, editor["token"])
    asked = {
        "sfx": ("audio", None, {"durationSeconds": 1.5}),
        "music": ("audio", "lyria-002", {"durationSeconds": 2}),
        "speech": ("audio", None, {"durationSeconds": 1}),
        "scene": ("video", "veo-3.1-generate", {"videoDurationSeconds": 4, "width": 320, "height": 240}),
    }
    started = {}
    for asset_type, (kind, model, options) in asked.items():
        fields = {"name": asset_type, "assetType": asset_type, "mediaKind": kind, "prompt": f"a {asset_type}"}
        started[asset_type] = await alice.generate(**fields, **({"model": model} if model else {}), options=options)

    for asset_type, answer in started.items():
        assert (await bob.result(answer["variantId"], timeout=90))["status"] == "completed", asset_type
    done = {
        f["variant"]["id"]: f["variant"]
        for f in bob.frames
        if f["type"] == "variant:updated" and f["variant"]["status"] == "completed"
    }
    durations = {name: done[answer["variantId"]]["media_duration_ms"] for name, answer in started.items()}
    assert durations == {"sfx": 1500, "music": 2000, "speech": 1000, "scene": 4000}
    video = done[started["scene"]["variantId"]]
    assert video["media_mime_type"] == "video/mp4" and (video["media_width"], video["media_height"]) == (320, 240)
    assert video["poster_key"]
    assert done[started["sfx"]["variantId"]]["media_mime_type"].startswith("audio/")
    recipe = json.loads(video["recipe"])
    assert recipe["options"] == {
        "videoDurationSeconds": 4,
        "width": 320,
        "height": 240,
        "videoTier": "fast",
        "videoResolution": "720p",
        "generateAudio": True,
    }


async def test_a_video_asking_for_no_audio_or_without_a_model_is_refused(stack: Stack):
    space_id, owner, _ = await stack.shared_space()
    alice = await stack.connect(space_id, owner["token"])
    base = {"name": "Clip", "assetType": "scene", "mediaKind": "video", "prompt": "waves"}

    no_model = await alice.call("generate:request", **base)
    no_audio = await alice.call("generate:request", **base, model="veo-3.1-generate", options={"generateAudio": False})

    assert no_model["type"] == no_audio["type"] == "error"
    assert no_model["message"] == "video generation needs an explicit model"
    assert "generateAudio: false is not supported" in no_audio["message"]


async def test_cancelling_a_queued_variant_fails_it_and_its_job_stops_without_storing_or_billing(tmp_path):
    stack = Stack(tmp_path)
    try:
        await stack.start(workers=0)  # the job waits in GEN_JOBS until a worker starts
        space_id, owner, editor = await stack.shared_space()
        alice = await stack.connect(space_id, owner["token"])
        bob = await stack.connect(space_id, editor["token"])
        started = await alice.generate(
            name="Fox", assetType="character", prompt="a fox", options={"width": 64, "height": 64}
        )
        variant_id = started["variantId"]

        assert (await bob.call("variant:cancel", variantId=variant_id))["type"] == "ack"
        cancelled = await alice.result(variant_id)
        assert (cancelled["status"], cancelled["errorMessage"]) == ("failed", "Cancelled before it finished.")
        refused = await bob.call("variant:cancel", variantId=variant_id)
        assert refused["type"] == "error" and refused["code"] == "INVALID_STATE"

        await stack.start_worker()
        start = len(alice.frames)
        assert (await alice.call("variant:retry", variantId=variant_id))["type"] == "ack"
        done = await alice.wait_for(
            lambda frame: frame["type"] == "generate:result" and frame["variantId"] == variant_id, start=start
        )

        assert done["status"] == "completed" and done["attempt"] == 2
        assert alice.variant_states(variant_id) == [
            "pending",
            "processing",
            "failed",
            "pending",
            "processing",
            "uploading",
            "completed",
        ]
        assert [usage["id"] for usage in await usage_events(stack, 1)] == [f"{variant_id}:2"]
    finally:
        stack.stop()


async def test_the_model_registry_is_published_at_api_models(stack: Stack):
    async with httpx.AsyncClient(base_url=stack.gateway.url, timeout=15) as api:
        answer = await api.get("/api/models")

    assert answer.status_code == 200
    models = {model["id"]: model for model in answer.json()["models"]}
    assert {model["id"] for model in models.values() if model["default"]} == {"gemini-3.1-flash-image", "elevenlabs"}
    assert models["gemini-3-pro-image"]["mediaKind"] == "image"
    assert models["veo-3.1-generate"]["parameters"]["properties"]["generateAudio"] == {
        "type": "boolean",
        "const": True,
        "default": True,
    }
    assert models["lyria-002"]["assetTypes"] == ["music"] and models["lyria-002"]["provider"] == "lyria"
    assert all({"costUnits", "unit", "provider", "mediaKind"} <= set(model) for model in models.values())


async def test_a_safety_block_fails_the_variant_at_once_with_the_providers_reason(gemini_stack: Stack, gemini):
    gemini.script(gemini_safety_block())
    space_id, owner, _ = await gemini_stack.shared_space()
    alice = await gemini_stack.connect(space_id, owner["token"])

    started = await alice.generate(name="Fox", assetType="character", prompt="something unsafe")
    result = await alice.result(started["variantId"])

    assert result["status"] == "failed"
    assert result["errorMessage"] == "Gemini blocked the prompt: The prompt was blocked for safety."
    assert len(gemini.requests) == 1


async def test_a_generation_that_outlives_its_media_kinds_timeout_fails_saying_so(tmp_path):
    stack = Stack(tmp_path, generation_env={"MAKEFX_IMAGE_TIMEOUT_SECONDS": "0.001"})
    try:
        await stack.start()
        space_id, owner, _ = await stack.shared_space()
        alice = await stack.connect(space_id, owner["token"])

        started = await alice.generate(name="Big", assetType="scene", prompt="a large picture")
        result = await alice.result(started["variantId"])

        assert result["status"] == "failed"
        assert result["errorMessage"] == "The image generation timed out after 0.001 seconds."
    finally:
        stack.stop()


async def test_music_and_video_made_from_a_reference_are_derived_from_it_and_their_refinements_refined(
    stack: Stack,
):
    space_id, owner, editor = await stack.shared_space()
    alice = await stack.connect(space_id, owner["token"])
    bob = await stack.connect(space_id, editor["token"])
    cape = await alice.generate(name="Cape", assetType="item", prompt="a red cape", options={"width": 64, "height": 64})
    assert (await alice.result(cape["variantId"]))["status"] == "completed"
    inspired = {"referenceVariantIds": [cape["variantId"]]}

    theme = await alice.generate(
        name="Theme",
        assetType="music",
        mediaKind="audio",
        prompt="a heroic theme",
        options={"durationSeconds": 1},
        **inspired,
    )
    clip = await bob.generate(
        name="Clip", assetType="scene", prompt="the cape in the wind", options=SMALL_VIDEO, **VEO, **inspired
    )
    for started in (theme, clip):
        for peer in (alice, bob):
            assert (await peer.result(started["variantId"], timeout=90))["status"] == "completed"
    softer = await bob.generate(
        "refine:request", sourceVariantId=theme["variantId"], prompt="softer", options={"durationSeconds": 1}
    )
    slower = await alice.generate(
        "refine:request", sourceVariantId=clip["variantId"], prompt="slower", options=SMALL_VIDEO, **inspired
    )
    for started in (softer, slower):
        for peer in (alice, bob):
            assert (await peer.result(started["variantId"], timeout=90))["status"] == "completed"

    derived = (cape["variantId"], "derived")
    for peer in (alice, bob):
        assert peer.lineage_of(theme["variantId"]) == {derived}
        assert peer.lineage_of(clip["variantId"]) == {derived}
        assert peer.lineage_of(softer["variantId"]) == {(theme["variantId"], "refined")}
        assert peer.lineage_of(slower["variantId"]) == {(clip["variantId"], "refined"), derived}
    assert (softer["assetId"], slower["assetId"]) == (theme["assetId"], clip["assetId"])
    assert bob.latest(softer["variantId"])["media_mime_type"].startswith("audio/")
    assert bob.latest(slower["variantId"])["media_mime_type"] == "video/mp4"
    # `local` takes no references: the lineage keeps them, the provenance says none was sent.
    provenance = json.loads(alice.latest(theme["variantId"])["generation_provenance"])
    assert (provenance["referencesSent"], provenance["referencesNotSent"]) == ([], [cape["variantId"]])
    provenance = json.loads(bob.latest(slower["variantId"])["generation_provenance"])
    assert provenance["referencesSent"] == []
    assert provenance["referencesNotSent"] == [clip["variantId"], cape["variantId"]]


def progress_of(peer: Peer, variant_id: str) -> list[tuple[int, float | None]]:
    """(frame index, progress) of each `job:progress` the peer received for the variant."""
    return [
        (index, frame["progress"])
        for index, frame in enumerate(peer.frames)
        if frame["type"] == "job:progress" and frame["variantId"] == variant_id
    ]


async def test_a_veo_videos_progress_reaches_both_sockets_rising_before_it_completes(
    vertex_stack: Stack, vertex: FakeServer
):
    vertex.script(
        veo_started(), veo_running(20), veo_running(55), veo_running(80), veo_video(draw_mp4("waves", 320, 240, 4))
    )
    space_id, owner, editor = await vertex_stack.shared_space()
    alice = await vertex_stack.connect(space_id, owner["token"])
    bob = await vertex_stack.connect(space_id, editor["token"])

    started = await alice.generate(name="Waves", assetType="scene", prompt="waves at dusk", options=SMALL_VIDEO, **VEO)
    variant_id = started["variantId"]

    for peer in (alice, bob):
        assert (await peer.result(variant_id, timeout=90))["status"] == "completed"
        reported = progress_of(peer, variant_id)
        # The operation as started (no progress known yet), then after each poll that found it running.
        assert [progress for _, progress in reported] == [None, 0.2, 0.55, 0.8]
        completed_at = next(
            index
            for index, frame in enumerate(peer.frames)
            if frame["type"] == "variant:updated"
            and frame["variant"]["id"] == variant_id
            and frame["variant"]["status"] == "completed"
        )
        assert all(index < completed_at for index, _ in reported)
        progress = [frame for frame in peer.frames if frame["type"] == "job:progress"]
        assert {(f["jobId"], f["attempt"], f["status"]) for f in progress} == {(f"{variant_id}:1", 1, "processing")}
    assert [request.path.rsplit(":", 1)[-1] for request in vertex.requests] == [
        "predictLongRunning",
        *["fetchPredictOperation"] * 4,
    ]


async def test_references_given_to_veo_keep_their_lineage_and_the_provenance_says_veo_did_not_get_them(
    vertex_stack: Stack, vertex: FakeServer
):
    vertex.script(veo_started(), veo_video(draw_mp4("a fox", 320, 240, 4)))
    space_id, owner, editor = await vertex_stack.shared_space()
    alice = await vertex_stack.connect(space_id, owner["token"])
    bob = await vertex_stack.connect(space_id, editor["token"])
    fox = await alice.generate(name="Fox", assetType="character", prompt="a fox", options={"width": 64, "height": 64})
    assert (await alice.result(fox["variantId"]))["status"] == "completed"

    clip = await bob.generate(
        name="Run",
        assetType="scene",
        prompt="the fox runs",
        options=SMALL_VIDEO,
        referenceVariantIds=[fox["variantId"]],
        **VEO,
    )

    for peer in (alice, bob):
        assert (await peer.result(clip["variantId"], timeout=90))["status"] == "completed"
        assert peer.lineage_of(clip["variantId"]) == {(fox["variantId"], "derived")}
        completed = peer.latest(clip["variantId"])
        provenance = json.loads(completed["generation_provenance"])
        assert provenance["referenceVariantIds"] == provenance["referencesNotSent"] == [fox["variantId"]]
        assert provenance["referencesSent"] == []
        assert json.loads(completed["provider_metadata"])["provider"] == "veo"
    start = vertex.requests[0].json()
    assert start["instances"] == [{"prompt": "the fox runs"}]


async def test_a_veo_operation_that_finishes_without_a_video_fails_the_variant_saying_so(
    vertex_stack: Stack, vertex: FakeServer
):
    vertex.script(veo_started(), veo_running(40), veo_finished())
    space_id, owner, editor = await vertex_stack.shared_space()
    alice = await vertex_stack.connect(space_id, owner["token"])
    bob = await vertex_stack.connect(space_id, editor["token"])

    started = await alice.generate(name="Waves", assetType="scene", prompt="waves", options=SMALL_VIDEO, **VEO)

    for peer in (alice, bob):
        failed = await peer.result(started["variantId"], timeout=90)
        assert (failed["status"], failed["errorMessage"]) == ("failed", "Veo returned no video.")
        assert peer.latest(started["variantId"])["error_message"] == "Veo returned no video."
        assert peer.variant_states(started["variantId"]) == ["pending", "processing", "failed"]
