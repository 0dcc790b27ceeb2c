"""The Lyria provider (Vertex `:predict` over HTTP) against a fake server, with an API key or a service account."""

from __future__ import annotations

import base64
import json

import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from makefx_contracts.generation import GenerationJob
from makefx_contracts.identity import Role
from makefx_contracts.rows import MediaKind
from makefx_contracts.space import Actor
from makefx_generation.providers import ProviderRejected, ProviderUnavailable
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


def provider(fake, retries: int = 2, api_key: str | None = "vx-key") -> LyriaProvider:
    return LyriaProvider(
        fake.http,
        api_key=api_key,
        project="proj",
        location="europe-west4",
        base_url=fake.url,
        retries=retries,
        backoff_seconds=0.01,
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
    assert request.headers["x-goog-api-key"] == "vx-key" and "authorization" not in request.headers


async def test_a_503_is_retried_then_succeeds(vertex):
    vertex.script(Reply(status=503, body={"error": {"message": "overloaded"}}), clip())

    assert (await provider(vertex).generate(job())).data == WAV
    assert len(vertex.requests) == 2


async def test_a_500_that_persists_is_retried_then_fails_as_unavailable(vertex):
    vertex.script(Reply(status=500, body={"error": {"code": 500, "message": "internal", "status": "INTERNAL"}}))

    with pytest.raises(ProviderUnavailable) as unavailable:
        await provider(vertex, retries=2).generate(job())

    assert unavailable.value.message == "Lyria is unavailable right now (500)."
    assert len(vertex.requests) == 3
    assert all(request.headers["x-goog-api-key"] == "vx-key" for request in vertex.requests)


@pytest.mark.parametrize(
    "answer",
    [
        Reply(body={"predictions": []}),
        Reply(body={"predictions": [{"mimeType": "audio/wav"}]}),
        Reply(body={"deployedModelId": "1"}),
        Reply(raw=b"<html>Bad gateway</html>", content_type="text/html"),
    ],
    ids=["no-predictions", "no-audio", "no-predictions-field", "not-json"],
)
async def test_an_answer_without_audio_is_retried_then_fails_saying_so(vertex, answer):
    vertex.script(answer)

    with pytest.raises(ProviderUnavailable) as unavailable:
        await provider(vertex, retries=1).generate(job())

    assert unavailable.value.message == "Lyria returned no audio."
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


@pytest.fixture
def service_account(tmp_path, vertex, monkeypatch):
    """Application default credentials: a service account whose token endpoint is the fake."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    account = {
        "type": "service_account",
        "project_id": "proj",
        "private_key_id": "k1",
        "private_key": pem,
        "client_email": "lyria@proj.iam.gserviceaccount.com",
        "client_id": "1",
        "token_uri": f"{vertex.url}/token",
    }
    path = tmp_path / "account.json"
    path.write_text(json.dumps(account))
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(path))


def token() -> Reply:
    return Reply(body={"access_token": "ya29.fake-token", "expires_in": 3600, "token_type": "Bearer"})


async def test_without_an_api_key_each_call_carries_a_token_of_the_application_default_credentials(
    vertex, service_account
):
    vertex.script(token(), clip())
    lyria = provider(vertex, api_key=None)

    assert (await lyria.generate(job())).data == WAV
    assert (await lyria.generate(job())).data == WAV

    fetched, first, second = vertex.requests
    assert fetched.path == "/token" and "assertion=" in fetched.body.decode()
    for request in (first, second):  # the token is fetched once and kept while it is valid
        assert request.path.endswith("/models/lyria-002:predict")
        assert request.headers["authorization"] == "Bearer ya29.fake-token"
        assert "x-goog-api-key" not in request.headers


async def test_without_an_api_key_or_credentials_the_variant_fails_saying_lyria_is_not_configured(
    vertex, tmp_path, monkeypatch
):
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(tmp_path / "missing.json"))

    with pytest.raises(ProviderRejected) as rejected:
        await provider(vertex, api_key=None).generate(job())

    assert rejected.value.message == "Lyria is not configured: no Google Cloud credentials were found."
    assert vertex.requests == []
