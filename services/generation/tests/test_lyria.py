"""The Lyria provider (Vertex `:predict` over HTTP) against a fake server."""

from __future__ import annotations

import base64

import httpx
import pytest

from makefx_contracts.generation import GenerationJob
from makefx_contracts.identity import Role
from makefx_contracts.rows import MediaKind
from makefx_contracts.space import Actor
from makefx_generation.providers import ProviderRejected
from makefx_generation.providers.local import tone_wav
from makefx_generation.providers.lyria import LyriaProvider

from .fakes import FakeServer, Reply, serving

WAV = tone_wav("calm piano", 0.5)


def job(asset_type: str = "music") -> GenerationJob:
    return GenerationJob(
        space_id="spc_1",
        asset_id="ast_1",
        variant_id="var_1",
        attempt=1,
        media_kind=MediaKind.AUDIO,
        asset_type=asset_type,
        recipe={"prompt": "calm piano", "model": "lyria-002", "provider": "lyria", "options": {}},
        actor=Actor(user_id="usr_1", role=Role.EDITOR),
    )


@pytest.fixture
async def vertex():
    async with serving(FakeServer()) as fake, httpx.AsyncClient() as http:
        fake.http = http
        yield fake


def provider(fake, retries: int = 2) -> LyriaProvider:
    return LyriaProvider(
        fake.http, project="proj", location="europe-west4", base_url=fake.url, retries=retries, backoff_seconds=0.01
    )


def clip() -> Reply:
    return Reply(
        body={"predictions": [{"bytesBase64Encoded": base64.b64encode(WAV).decode(), "mimeType": "audio/wav"}]}
    )


async def test_music_is_predicted_by_lyria_with_exactly_the_prompt(vertex):
    vertex.script(clip())

    generated = await provider(vertex).generate(job())

    assert generated.data == WAV and generated.mime_type == "audio/wav" and generated.provider == "lyria"
    [request] = vertex.requests
    assert request.path == "/v1/projects/proj/locations/europe-west4/publishers/google/models/lyria-002:predict"
    assert request.json() == {"instances": [{"prompt": "calm piano"}], "parameters": {"sampleCount": 1}}


async def test_a_503_is_retried_then_succeeds(vertex):
    vertex.script(Reply(status=503, body={"error": {"message": "overloaded"}}), clip())

    assert (await provider(vertex).generate(job())).data == WAV
    assert len(vertex.requests) == 2


async def test_a_blocked_prompt_fails_at_once_with_the_reason(vertex):
    vertex.script(Reply(status=400, body={"error": {"message": "The prompt was blocked by safety filters."}}))

    with pytest.raises(ProviderRejected, match=r"Lyria refused the request: The prompt was blocked"):
        await provider(vertex).generate(job())

    assert len(vertex.requests) == 1


async def test_lyria_refuses_anything_but_music_without_calling_out(vertex):
    with pytest.raises(ProviderRejected, match="Lyria only makes music"):
        await provider(vertex).generate(job("sfx"))

    assert vertex.requests == []
