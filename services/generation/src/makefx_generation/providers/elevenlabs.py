"""ElevenLabs audio through the `elevenlabs` SDK: `sfx` assets → sound effects, `music` → music, any other → speech.

Speech with several voices (the recipe's `dialogueVoiceIds`) is a dialogue
(`/v1/text-to-dialogue`): each non-empty line of the prompt is one turn, spoken by the
voices in the order given, round and round.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import httpx
from elevenlabs import DialogueInput
from elevenlabs.client import AsyncElevenLabs
from elevenlabs.core.api_error import ApiError

from makefx_contracts.generation import GenerationJob
from makefx_generation.providers.base import (
    Generated,
    ProgressReport,
    ProviderRejected,
    Reference,
    no_progress,
    option,
)
from makefx_generation.providers.retry import Transient, with_retries

DEFAULT_VOICE = "JBFqnCBsd6RMkjVDRZzb"
SPEECH_MODEL = "eleven_multilingual_v2"
DIALOGUE_MODEL = "eleven_v3"
"""The model that speaks text-to-dialogue (the v2 speech models do not)."""
OUTPUT_FORMAT = "mp3_44100_128"


def _reason(body: Any) -> str:
    if isinstance(body, dict):
        detail = body.get("detail", body)
        if isinstance(detail, dict):
            return str(detail.get("message") or detail.get("status") or detail)
        return str(detail)
    return str(body)


def route(job: GenerationJob) -> str:
    """Which ElevenLabs endpoint makes the job: sound effects, music, speech, or dialogue when several voices speak."""
    kind = {"sfx": "sound_effects", "music": "music"}.get(job.asset_type, "speech")
    if kind == "speech" and len(dialogue_voices(job)) > 1:
        return "dialogue"
    return kind


def dialogue_voices(job: GenerationJob) -> list[str]:
    voices = option(job, "dialogueVoiceIds", None) or []
    return [str(voice) for voice in voices] if isinstance(voices, list) else []


def dialogue_turns(prompt: str, voices: Sequence[str]) -> list[DialogueInput]:
    """One turn per non-empty line of the prompt, the voices taking turns in their order."""
    lines = [line.strip() for line in prompt.splitlines() if line.strip()] or [prompt]
    return [DialogueInput(text=line, voice_id=voices[index % len(voices)]) for index, line in enumerate(lines)]


class ElevenLabsProvider:
    name = "elevenlabs"
    takes_references = False

    def __init__(
        self, api_key: str, *, base_url: str | None = None, retries: int = 3, backoff_seconds: float = 1.0
    ) -> None:
        self.client = (
            AsyncElevenLabs(api_key=api_key, base_url=base_url) if base_url else AsyncElevenLabs(api_key=api_key)
        )
        self.retries = retries
        self.backoff_seconds = backoff_seconds

    async def generate(
        self, job: GenerationJob, report: ProgressReport = no_progress, references: Sequence[Reference] = ()
    ) -> Generated:
        prompt = str(job.recipe.get("prompt", ""))
        kind = route(job)
        seconds = option(job, "durationSeconds", None)

        async def call() -> Generated:
            try:
                data = b"".join([chunk async for chunk in self._stream(kind, prompt, seconds, job)])
            except ApiError as error:
                status = error.status_code or 0
                if status == 429 or status >= 500:
                    raise Transient(f"ElevenLabs is unavailable right now ({status}).") from error
                raise ProviderRejected(f"ElevenLabs refused the request: {_reason(error.body)}") from error
            except httpx.HTTPError as error:
                raise Transient(f"ElevenLabs could not be reached ({type(error).__name__}).") from error
            if not data:
                raise Transient("ElevenLabs returned no audio.")
            metadata = {"endpoint": kind, "outputFormat": OUTPUT_FORMAT}
            return Generated(data, "audio/mpeg", self.name, str(job.recipe.get("model")), metadata, seconds)

        what = f"elevenlabs {job.id}"
        return await with_retries(call, retries=self.retries, backoff_seconds=self.backoff_seconds, what=what)

    def _stream(self, kind: str, prompt: str, seconds: float | None, job: GenerationJob):
        if kind == "sound_effects":
            extra = {"duration_seconds": float(seconds)} if seconds is not None else {}
            return self.client.text_to_sound_effects.convert(text=prompt, output_format=OUTPUT_FORMAT, **extra)
        if kind == "music":
            extra = {"music_length_ms": int(float(seconds) * 1000)} if seconds is not None else {}
            return self.client.music.compose(prompt=prompt, output_format=OUTPUT_FORMAT, **extra)
        if kind == "dialogue":
            return self.client.text_to_dialogue.convert(
                inputs=dialogue_turns(prompt, dialogue_voices(job)),
                model_id=DIALOGUE_MODEL,
                output_format=OUTPUT_FORMAT,
            )
        voice = str(option(job, "voiceId", DEFAULT_VOICE))
        return self.client.text_to_speech.convert(
            voice, text=prompt, model_id=SPEECH_MODEL, output_format=OUTPUT_FORMAT
        )
