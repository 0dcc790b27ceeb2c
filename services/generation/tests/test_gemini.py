"""The Gemini image provider through the real google-genai SDK, against a fake `:generateContent` server."""

from __future__ import annotations

import base64

import pytest

from makefx_contracts.generation import GenerationJob
from makefx_contracts.identity import Role
from makefx_contracts.rows import MediaKind
from makefx_contracts.space import Actor
from makefx_generation.providers import ProviderRejected, ProviderUnavailable, Reference
from makefx_generation.providers.gemini import GeminiImageProvider

from .fakes import FakeServer, Reply, gemini_error, gemini_image, gemini_safety_block, png_bytes, serving


def job(**options) -> GenerationJob:
    return GenerationJob(
        space_id="spc_1",
        asset_id="ast_1",
        variant_id="var_1",
        attempt=1,
        media_kind=MediaKind.IMAGE,
        asset_type="character",
        recipe={"prompt": "a red fox", "model": "gemini-3.1-flash-image", "provider": "gemini", "options": options},
        actor=Actor(user_id="usr_1", role=Role.EDITOR),
    )


@pytest.fixture
async def gemini():
    async with serving(FakeServer()) as fake:
        yield fake


def provider(fake: FakeServer, retries: int = 2) -> GeminiImageProvider:
    return GeminiImageProvider("test-key", base_url=fake.url, retries=retries, backoff_seconds=0.01)


async def test_success_returns_the_inline_image_and_sends_exactly_the_prompt_model_and_image_modality(gemini):
    image = png_bytes()
    gemini.script(gemini_image(image))

    generated = await provider(gemini).generate(job(width=1600, height=900))

    assert generated.data == image and generated.mime_type == "image/png"
    assert (generated.provider, generated.model) == ("gemini", "gemini-3.1-flash-image")
    assert generated.metadata["totalTokens"] == 1290
    [request] = gemini.requests
    assert request.method == "POST"
    assert request.path == "/v1/models/gemini-3.1-flash-image:generateContent"
    assert request.headers["x-goog-api-key"] == "test-key"
    assert request.json() == {
        "contents": [{"parts": [{"text": "a red fox"}], "role": "user"}],
        "generationConfig": {"responseModalities": ["IMAGE"], "imageConfig": {"aspectRatio": "16:9"}},
    }


async def test_reference_images_follow_the_prompt_as_inline_parts_with_their_mime_types(gemini):
    gemini.script(gemini_image(png_bytes()))
    first, second = png_bytes(32, 32), b"\xff\xd8\xff\xe0fake-jpeg"
    references = [Reference("var_a", first, "image/png"), Reference("var_b", second, "image/jpeg")]

    await provider(gemini).generate(job(), references=references)

    [request] = gemini.requests
    # google-genai 3.6 writes inline bytes URL-safe base64 under `mime_type` (the API reads either spelling).
    assert request.json()["contents"] == [
        {
            "parts": [
                {"text": "a red fox"},
                {"inlineData": {"data": base64.urlsafe_b64encode(first).decode(), "mime_type": "image/png"}},
                {"inlineData": {"data": base64.urlsafe_b64encode(second).decode(), "mime_type": "image/jpeg"}},
            ],
            "role": "user",
        }
    ]


async def test_a_429_is_retried_inside_the_attempt_then_succeeds(gemini):
    gemini.script(gemini_error(429, "Resource exhausted", "RESOURCE_EXHAUSTED"), gemini_image(png_bytes()))

    generated = await provider(gemini).generate(job())

    assert generated.data.startswith(b"\x89PNG")
    assert len(gemini.requests) == 2
    assert gemini.requests[0].json() == gemini.requests[1].json()


async def test_a_500_that_persists_fails_after_the_retries_as_unavailable(gemini):
    gemini.script(gemini_error(500, "Internal error", "INTERNAL"))

    with pytest.raises(ProviderUnavailable, match="Gemini is unavailable right now \\(500"):
        await provider(gemini, retries=2).generate(job())

    assert len(gemini.requests) == 3


async def test_a_safety_block_fails_at_once_with_the_providers_reason(gemini):
    gemini.script(gemini_safety_block())

    with pytest.raises(ProviderRejected) as rejected:
        await provider(gemini).generate(job())

    assert rejected.value.message == "Gemini blocked the prompt: The prompt was blocked for safety."
    assert len(gemini.requests) == 1


async def test_an_invalid_request_fails_at_once_with_the_providers_message(gemini):
    gemini.script(gemini_error(400, "Unsupported aspect ratio", "INVALID_ARGUMENT"))

    with pytest.raises(ProviderRejected, match="Gemini refused the request: Unsupported aspect ratio"):
        await provider(gemini).generate(job(aspectRatio="2:1"))

    assert len(gemini.requests) == 1


async def test_a_malformed_answer_is_retried_then_reported_as_no_image(gemini):
    gemini.script(Reply(body={"candidates": [{"content": {"parts": [{"text": "no picture"}]}}]}))

    with pytest.raises(ProviderUnavailable, match="Gemini returned no image"):
        await provider(gemini, retries=1).generate(job())

    assert len(gemini.requests) == 2


@pytest.mark.parametrize(
    "answer",
    [
        Reply(raw=b"<html>Bad gateway</html>", content_type="text/html"),
        Reply(body={"candidates": [{"content": {"parts": [{"inlineData": {"mimeType": "image/png", "data": "!!"}}]}}]}),
    ],
    ids=["not-json", "undecodable-image"],
)
async def test_an_answer_the_sdk_cannot_read_is_retried_then_fails_saying_so(gemini, answer):
    gemini.script(answer)

    with pytest.raises(ProviderUnavailable) as unavailable:
        await provider(gemini, retries=1).generate(job())

    assert unavailable.value.message == "Gemini returned an answer that could not be read."
    assert len(gemini.requests) == 2
