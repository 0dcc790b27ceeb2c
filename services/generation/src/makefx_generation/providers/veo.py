"""Veo video through google-genai in Vertex mode: `:predictLongRunning`, then polling `:fetchPredictOperation`."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from google import genai
from google.genai import errors, types

from makefx_contracts.generation import GenerationJob
from makefx_generation.providers.base import (
    Generated,
    ProgressReport,
    ProviderRejected,
    ProviderUnavailable,
    Reference,
    no_progress,
    option,
)
from makefx_generation.providers.gemini import api_error, unreadable
from makefx_generation.providers.retry import Transient, with_retries

API_MODELS = {"fast": "veo-3.1-fast-generate-001", "standard": "veo-3.1-generate-001"}
"""The Vertex model behind `veo-3.1-generate` for each `videoTier`."""
_TRANSIENT_CODES = {4, 8, 10, 13, 14}  # deadline, exhausted, aborted, internal, unavailable (google.rpc.Code)


class VeoProvider:
    name = "veo"
    takes_references = False

    def __init__(
        self,
        *,
        api_key: str | None = None,
        project: str | None = None,
        location: str = "us-central1",
        base_url: str | None = None,
        retries: int = 3,
        backoff_seconds: float = 1.0,
        poll_seconds: float = 5.0,
    ) -> None:
        options = types.HttpOptions(base_url=base_url, retry_options=types.HttpRetryOptions(attempts=1))
        where: dict[str, Any] = {"api_key": api_key} if api_key else {"project": project, "location": location}
        self.client = genai.Client(vertexai=True, http_options=options, **where)
        self.retries = retries
        self.backoff_seconds = backoff_seconds
        self.poll_seconds = poll_seconds

    async def generate(
        self, job: GenerationJob, report: ProgressReport = no_progress, references: Sequence[Reference] = ()
    ) -> Generated:
        tier = str(option(job, "videoTier", "fast"))
        api_model = API_MODELS.get(tier, API_MODELS["fast"])
        seconds = int(option(job, "videoDurationSeconds", 8))
        config = types.GenerateVideosConfig(
            number_of_videos=1,
            duration_seconds=seconds,
            resolution=str(option(job, "videoResolution", "720p")),
            generate_audio=bool(option(job, "generateAudio", True)),
            aspect_ratio=str(option(job, "aspectRatio", "16:9")),
        )
        source = types.GenerateVideosSource(prompt=str(job.recipe.get("prompt", "")))
        retry = {"retries": self.retries, "backoff_seconds": self.backoff_seconds, "what": f"veo {job.id}"}

        async def start() -> types.GenerateVideosOperation:
            try:
                return await self.client.aio.models.generate_videos(model=api_model, source=source, config=config)
            except errors.APIError as error:
                raise api_error(error, "Veo") from error
            except ValueError as error:
                raise unreadable(error, "Veo") from error

        operation = await with_retries(start, **retry)
        while not operation.done:
            await report(_progress_of(operation))
            await asyncio.sleep(self.poll_seconds)
            operation = await with_retries(lambda op=operation: self._poll(op), **retry)
        try:
            video = self._video(operation)
        except Transient as error:
            # The operation is over: nothing left to retry inside this attempt.
            raise ProviderUnavailable(error.message) from error
        metadata = {"operation": operation.name, "apiModel": api_model, "videoTier": tier}
        return Generated(video, "video/mp4", self.name, str(job.recipe.get("model")), metadata, float(seconds))

    async def _poll(self, operation: types.GenerateVideosOperation) -> types.GenerateVideosOperation:
        try:
            return await self.client.aio.operations.get(operation)
        except errors.APIError as error:
            raise api_error(error, "Veo") from error
        except ValueError as error:
            raise unreadable(error, "Veo") from error

    def _video(self, operation: types.GenerateVideosOperation) -> bytes:
        if operation.error:
            code, message = operation.error.get("code"), operation.error.get("message") or "unknown error"
            if code in _TRANSIENT_CODES:
                raise Transient(f"Veo failed: {message}")
            raise ProviderRejected(f"Veo refused the request: {message}")
        response = operation.response or operation.result
        videos = (response.generated_videos or []) if response is not None else []
        if not videos and response is not None and response.rai_media_filtered_count:
            reasons = "; ".join(response.rai_media_filtered_reasons or []) or "the video was filtered for safety"
            raise ProviderRejected(f"Veo blocked the video: {reasons}")
        for generated in videos:
            if generated.video is not None and generated.video.video_bytes:
                return generated.video.video_bytes
        raise Transient("Veo returned no video.")


def _progress_of(operation: types.GenerateVideosOperation) -> float | None:
    """Vertex reports `progressPercent` in the operation's metadata when it knows it."""
    percent = (operation.metadata or {}).get("progressPercent")
    return min(max(float(percent) / 100, 0.0), 1.0) if isinstance(percent, int | float) else None
