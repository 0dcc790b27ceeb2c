"""The Veo provider through google-genai in Vertex mode, against a fake long-running-operation server."""

from __future__ import annotations

import pytest

from makefx_contracts.generation import GenerationJob
from makefx_contracts.identity import Role
from makefx_contracts.rows import MediaKind
from makefx_contracts.space import Actor
from makefx_generation.providers import ProviderRejected, ProviderUnavailable
from makefx_generation.providers.veo import VeoProvider

from .fakes import VEO_OPERATION, FakeServer, Reply, veo_video
from .fakes import veo_finished as finished
from .fakes import veo_running as running
from .fakes import veo_started as started

VIDEO = b"\x00\x00\x00\x18ftypmp42fake"
OPERATION = VEO_OPERATION


def job(**options) -> GenerationJob:
    recipe_options = {"videoTier": "fast", "videoResolution": "720p", "videoDurationSeconds": 6, "generateAudio": True}
    return GenerationJob(
        space_id="spc_1",
        asset_id="ast_1",
        variant_id="var_1",
        attempt=1,
        media_kind=MediaKind.VIDEO,
        asset_type="scene",
        recipe={
            "prompt": "waves at dusk",
            "model": "veo-3.1-generate",
            "provider": "veo",
            "options": recipe_options | options,
        },
        actor=Actor(user_id="usr_1", role=Role.EDITOR),
    )


def with_video() -> Reply:
    return veo_video(VIDEO)


def provider(fake: FakeServer, retries: int = 2) -> VeoProvider:
    return VeoProvider(api_key="vx-key", base_url=fake.url, retries=retries, backoff_seconds=0.01, poll_seconds=0.01)


async def test_a_video_starts_an_operation_polls_it_until_done_and_returns_its_bytes(vertex):
    vertex.script(started(), running(), with_video())

    generated = await provider(vertex).generate(job())

    assert generated.data == VIDEO and generated.mime_type == "video/mp4" and generated.duration_seconds == 6
    assert generated.metadata["apiModel"] == "veo-3.1-fast-generate-001"
    start, poll, last = vertex.requests
    assert start.path == "/v1beta1/publishers/google/models/veo-3.1-fast-generate-001:predictLongRunning"
    assert start.headers["x-goog-api-key"] == "vx-key"
    assert start.json() == {
        "instances": [{"prompt": "waves at dusk"}],
        "parameters": {
            "sampleCount": 1,
            "durationSeconds": 6,
            "aspectRatio": "16:9",
            "resolution": "720p",
            "generateAudio": True,
        },
    }
    assert poll.path.endswith("veo-3.1-fast-generate-001:fetchPredictOperation")
    assert poll.json() == last.json() == {"operationName": OPERATION}


async def test_the_standard_tier_uses_the_standard_model_and_a_429_start_is_retried(vertex):
    vertex.script(
        Reply(status=429, body={"error": {"code": 429, "message": "slow down", "status": "RESOURCE_EXHAUSTED"}})
    )
    vertex.replies += [started(), with_video()]

    generated = await provider(vertex).generate(job(videoTier="standard"))

    assert generated.data == VIDEO
    assert [request.path.rsplit("/", 1)[-1] for request in vertex.requests] == [
        "veo-3.1-generate-001:predictLongRunning",
        "veo-3.1-generate-001:predictLongRunning",
        "veo-3.1-fast-generate-001:fetchPredictOperation",  # the operation's own model, from its name
    ]


async def test_a_filtered_video_fails_at_once_with_the_reason(vertex):
    vertex.script(
        started(), finished(raiMediaFilteredCount=1, raiMediaFilteredReasons=["The prompt names a real person."])
    )

    with pytest.raises(ProviderRejected) as rejected:
        await provider(vertex).generate(job())

    assert rejected.value.message == "Veo blocked the video: The prompt names a real person."


async def test_an_operation_that_ends_in_an_invalid_argument_fails_with_its_message(vertex):
    vertex.script(
        started(), Reply(body={"name": OPERATION, "done": True, "error": {"code": 3, "message": "bad duration"}})
    )

    with pytest.raises(ProviderRejected, match="Veo refused the request: bad duration"):
        await provider(vertex).generate(job())


async def test_a_500_that_persists_fails_as_unavailable(vertex):
    vertex.script(Reply(status=500, body={"error": {"code": 500, "message": "internal", "status": "INTERNAL"}}))

    with pytest.raises(ProviderUnavailable, match="Veo is unavailable right now"):
        await provider(vertex, retries=1).generate(job())

    assert len(vertex.requests) == 2


async def test_each_poll_of_a_running_operation_reports_its_progress(vertex):
    at = {"name": OPERATION, "done": False}
    vertex.script(
        Reply(body=at | {"metadata": {"progressPercent": 10}}),
        Reply(body=at | {"metadata": {"progressPercent": 60}}),
        running(),
        with_video(),
    )
    reported: list[float | None] = []

    async def report(progress: float | None) -> None:
        reported.append(progress)

    await provider(vertex).generate(job(), report)

    # The operation as started, then after each poll that found it still running.
    assert reported == [0.1, 0.6, None]


async def test_an_operation_that_finishes_without_a_video_fails_saying_so(vertex):
    vertex.script(started(), finished(), started(), finished(videos=[{"gcsUri": "gs://b/v.mp4"}]))

    for _ in range(2):
        with pytest.raises(ProviderUnavailable) as unavailable:
            await provider(vertex).generate(job())

        # The operation is over: nothing is polled again, the message is the variant's error as it is.
        assert unavailable.value.message == "Veo returned no video."
    assert [request.path.rsplit(":", 1)[-1] for request in vertex.requests] == [
        "predictLongRunning",
        "fetchPredictOperation",
    ] * 2


@pytest.mark.parametrize(
    ("answer", "polls"),
    [
        (Reply(raw=b"<html>Bad gateway</html>", content_type="text/html"), 2),
        (finished(videos=[{"bytesBase64Encoded": "!!not base64!!", "mimeType": "video/mp4"}]), 2),
        # Read as an operation without a name, which the SDK then refuses to poll (no request).
        (Reply(body=["not", "an", "operation"]), 1),
    ],
    ids=["not-json", "undecodable-video", "not-an-operation"],
)
async def test_a_poll_answer_the_sdk_cannot_read_is_retried_then_fails_saying_so(vertex, answer, polls):
    vertex.script(started(), answer)

    with pytest.raises(ProviderUnavailable) as unavailable:
        await provider(vertex, retries=1).generate(job())

    assert unavailable.value.message == "Veo returned an answer that could not be read."
    assert [request.path.rsplit(":", 1)[-1] for request in vertex.requests] == [
        "predictLongRunning",
        *["fetchPredictOperation"] * polls,
    ]


async def test_a_start_answer_that_is_not_json_is_retried_then_fails_saying_so(vertex):
    vertex.script(Reply(raw=b"upstream connect error", content_type="text/plain"))

    with pytest.raises(ProviderUnavailable, match=r"^Veo returned an answer that could not be read\.$"):
        await provider(vertex, retries=1).generate(job())

    assert len(vertex.requests) == 2
