"""ElevenLabs audio through the `elevenlabs` SDK: `sfx` assets → sound effects, `music` → music, any other → speech."""

from __future__ import annotations

from typing import Any

import httpx
from elevenlabs.client import AsyncElevenLabs
from elevenlabs.core.api_error import ApiError

from makefx_contracts.generation import GenerationJob
from makefx_generation.providers.base import Generated, ProgressReport, ProviderRejected, no_progress, option
from makefx_generation.providers.retry import Transient, with_retries

DEFAULT_VOICE = "JBFqnCBsd6RMkjVDRZzb"
SPEECH_MODEL = "eleven_multilingual_v2"
OUTPUT_FORMAT = "mp3_44100_128"


def _reason(body: Any) -> str:
    if isinstance(body, dict):
        detail = body.get("detail", body)
        if isinstance(detail, dict):
            return str(detail.get("message") or detail.get("status") or detail)
        return str(detail)
    return str(body)


def route(asset_type: str) -> str:
    """Which ElevenLabs endpoint makes an asset type: sound effects, music or speech."""
    return {"sfx": "sound_effects", "music": "music"}.get(asset_type, "speech")


class ElevenLabsProvider:
    name = "elevenlabs"

    def __init__(
        self, api_key: str, *, base_url: str | None = None, retries: int = 3, backoff_seconds: float = 1.0
    ) -> None:
        self.client = (
            AsyncElevenLabs(api_key=api_key, base_url=base_url) if base_url else AsyncElevenLabs(api_key=api_key)
        )
        self.retries = retries
        self.backoff_seconds = backoff_seconds

    async def generate(self, job: GenerationJob, report: ProgressReport = no_progress) -> Generated:
        prompt = str(job.recipe.get("prompt", ""))
        kind = route(job.asset_type)
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
        voice = str(option(job, "voiceId", DEFAULT_VOICE))
        return self.client.text_to_speech.convert(
            voice, text=prompt, model_id=SPEECH_MODEL, output_format=OUTPUT_FORMAT
        )
