"""The ElevenLabs provider through the real `elevenlabs` SDK, against a fake HTTP server."""

from __future__ import annotations

import pytest

from makefx_contracts.generation import GenerationJob
from makefx_contracts.identity import Role
from makefx_contracts.rows import MediaKind
from makefx_contracts.space import Actor
from makefx_generation.providers import ProviderRejected, ProviderUnavailable
from makefx_generation.providers.elevenlabs import DEFAULT_VOICE, DIALOGUE_MODEL, ElevenLabsProvider

from .fakes import FakeServer, Reply, serving

AUDIO = b"ID3\x04fake-mp3-bytes"


def job(asset_type: str, **options) -> GenerationJob:
    return GenerationJob(
        space_id="spc_1",
        asset_id="ast_1",
        variant_id="var_1",
        attempt=1,
        media_kind=MediaKind.AUDIO,
        asset_type=asset_type,
        recipe={"prompt": "thunder far away", "model": "elevenlabs", "provider": "elevenlabs", "options": options},
        actor=Actor(user_id="usr_1", role=Role.EDITOR),
    )


def audio(data: bytes = AUDIO) -> Reply:
    return Reply(raw=data, content_type="audio/mpeg")


@pytest.fixture
async def eleven():
    async with serving(FakeServer()) as fake:
        yield fake


def provider(fake: FakeServer, retries: int = 2) -> ElevenLabsProvider:
    return ElevenLabsProvider("xi-key", base_url=fake.url, retries=retries, backoff_seconds=0.01)


async def test_an_sfx_asset_is_made_by_the_sound_effects_endpoint_with_its_duration(eleven):
    eleven.script(audio())

    generated = await provider(eleven).generate(job("sfx", durationSeconds=2.5))

    assert generated.data == AUDIO and generated.mime_type == "audio/mpeg" and generated.duration_seconds == 2.5
    [request] = eleven.requests
    assert (request.method, request.path) == ("POST", "/v1/sound-generation")
    assert request.headers["xi-api-key"] == "xi-key" and request.query == "output_format=mp3_44100_128"
    assert request.json() == {"text": "thunder far away", "duration_seconds": 2.5}


async def test_a_music_asset_is_composed_by_the_music_endpoint_with_its_length(eleven):
    eleven.script(audio())

    await provider(eleven).generate(job("music", durationSeconds=30))

    [request] = eleven.requests
    assert (request.method, request.path) == ("POST", "/v1/music")
    assert request.json() == {"prompt": "thunder far away", "music_length_ms": 30000}


async def test_any_other_audio_asset_is_speech_in_the_default_voice(eleven):
    eleven.script(audio())

    await provider(eleven).generate(job("speech"))

    [request] = eleven.requests
    assert (request.method, request.path) == ("POST", f"/v1/text-to-speech/{DEFAULT_VOICE}")
    assert request.json() == {"text": "thunder far away", "model_id": "eleven_multilingual_v2"}


async def test_speech_with_several_voices_is_a_dialogue_one_line_a_turn_in_the_voices_order(eleven):
    eleven.script(audio())
    speech = job("dialogue", dialogueVoiceIds=["voice-a", "voice-b"])
    speech.recipe["prompt"] = "Who goes there?\n\nA friend.\nAdvance, friend."

    generated = await provider(eleven).generate(speech)

    assert generated.data == AUDIO and generated.metadata["endpoint"] == "dialogue"
    [request] = eleven.requests
    assert (request.method, request.path) == ("POST", "/v1/text-to-dialogue")
    assert request.headers["xi-api-key"] == "xi-key" and request.query == "output_format=mp3_44100_128"
    assert request.json() == {
        "inputs": [
            {"text": "Who goes there?", "voice_id": "voice-a"},
            {"text": "A friend.", "voice_id": "voice-b"},
            {"text": "Advance, friend.", "voice_id": "voice-a"},
        ],
        "model_id": DIALOGUE_MODEL,
    }


async def test_a_single_dialogue_voice_is_plain_speech_in_that_voice(eleven):
    eleven.script(audio())

    await provider(eleven).generate(job("speech", dialogueVoiceIds=["voice-a"], voiceId="voice-a"))

    [request] = eleven.requests
    assert request.path == "/v1/text-to-speech/voice-a"


async def test_a_refused_dialogue_fails_at_once_with_the_providers_reason(eleven):
    eleven.script(Reply(status=422, body={"detail": {"status": "invalid_voice", "message": "Voice voice-b not found"}}))

    with pytest.raises(ProviderRejected, match="ElevenLabs refused the request: Voice voice-b not found"):
        await provider(eleven).generate(job("dialogue", dialogueVoiceIds=["voice-a", "voice-b"]))

    assert len(eleven.requests) == 1


async def test_a_429_is_retried_then_succeeds(eleven):
    eleven.script(Reply(status=429, body={"detail": {"status": "too_many_concurrent_requests"}}), audio())

    generated = await provider(eleven).generate(job("sfx"))

    assert generated.data == AUDIO and len(eleven.requests) == 2


async def test_a_500_that_persists_fails_as_unavailable_after_the_retries(eleven):
    eleven.script(Reply(status=500, body={"detail": "boom"}))

    with pytest.raises(ProviderUnavailable, match=r"ElevenLabs is unavailable right now \(500\)"):
        await provider(eleven, retries=1).generate(job("sfx"))

    assert len(eleven.requests) == 2


async def test_a_refused_prompt_fails_at_once_with_the_providers_reason(eleven):
    eleven.script(
        Reply(status=400, body={"detail": {"status": "bad_prompt", "message": "The prompt violates our terms."}})
    )

    with pytest.raises(ProviderRejected) as rejected:
        await provider(eleven).generate(job("music"))

    assert rejected.value.message == "ElevenLabs refused the request: The prompt violates our terms."
    assert len(eleven.requests) == 1


async def test_an_empty_answer_is_retried_then_reported(eleven):
    eleven.script(audio(b""))

    with pytest.raises(ProviderUnavailable, match="ElevenLabs returned no audio"):
        await provider(eleven, retries=1).generate(job("speech"))

    first, second = eleven.requests
    assert first.path == second.path == f"/v1/text-to-speech/{DEFAULT_VOICE}" and first.body == second.body
