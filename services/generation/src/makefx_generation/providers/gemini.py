"""Gemini images through google-genai's `generate_content` (`:generateContent`), image modality."""

from __future__ import annotations

import base64
import logging
from collections.abc import Sequence
from typing import Any

from google import genai
from google.genai import errors, types

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

log = logging.getLogger(__name__)

_BLOCKED = {
    "SAFETY",
    "PROHIBITED_CONTENT",
    "BLOCKLIST",
    "SPII",
    "IMAGE_SAFETY",
    "IMAGE_PROHIBITED_CONTENT",
    "MODEL_ARMOR",
}
_RATIOS = {"1:1": 1.0, "3:4": 0.75, "4:3": 4 / 3, "9:16": 9 / 16, "16:9": 16 / 9}


def aspect_ratio(job: GenerationJob) -> str:
    """The recipe's `aspectRatio`, or the supported ratio nearest its width and height."""
    given = option(job, "aspectRatio", None)
    if given:
        return str(given)
    ratio = int(option(job, "width", 1024)) / int(option(job, "height", 1024))
    return min(_RATIOS, key=lambda name: abs(_RATIOS[name] - ratio))


def api_error(error: errors.APIError, provider: str) -> Exception:
    """429 and 5xx are worth retrying; any other refusal is final, with the provider's own reason."""
    if error.code == 429 or error.code >= 500:
        return Transient(f"{provider} is unavailable right now ({error.code} {error.status or ''}).".replace(" )", ")"))
    reason = error.message or error.status or f"HTTP {error.code}"
    return ProviderRejected(f"{provider} refused the request: {reason}")


def unreadable(error: ValueError, provider: str) -> Transient:
    """An answer the SDK could not read: not JSON, or a field of the wrong shape (a pydantic `ValidationError`).

    The SDK raises plain `ValueError`s for these; unhandled, they would leave the job to be
    redelivered until JetStream gives up, and the variant `processing` for good.
    """
    log.warning("%s answered something unreadable: %s", provider, error)
    return Transient(f"{provider} returned an answer that could not be read.")


def contents(prompt: str, references: Sequence[Reference]) -> str | list[types.Part]:
    """The prompt, then each reference image inline (base64 `inlineData` with its mime type)."""
    if not references:
        return prompt
    return [
        types.Part.from_text(text=prompt),
        *(types.Part.from_bytes(data=reference.data, mime_type=reference.mime_type) for reference in references),
    ]


class GeminiImageProvider:
    name = "gemini"
    takes_references = True

    def __init__(
        self, api_key: str, *, base_url: str | None = None, retries: int = 3, backoff_seconds: float = 1.0
    ) -> None:
        self.client = genai.Client(
            api_key=api_key,
            http_options=types.HttpOptions(
                base_url=base_url,
                # Retries are ours (counted, logged, bounded per attempt): the SDK tries once.
                retry_options=types.HttpRetryOptions(attempts=1),
            ),
        )
        self.retries = retries
        self.backoff_seconds = backoff_seconds

    async def generate(
        self, job: GenerationJob, report: ProgressReport = no_progress, references: Sequence[Reference] = ()
    ) -> Generated:
        model = str(job.recipe["model"])
        prompt = contents(str(job.recipe.get("prompt", "")), references)
        config = types.GenerateContentConfig(
            response_modalities=["IMAGE"],
            image_config=types.ImageConfig(aspect_ratio=aspect_ratio(job)),
        )

        async def call() -> Generated:
            try:
                response = await self.client.aio.models.generate_content(model=model, contents=prompt, config=config)
            except errors.APIError as error:
                raise api_error(error, "Gemini") from error
            except ValueError as error:
                raise unreadable(error, "Gemini") from error
            return self._image(response, model)

        return await with_retries(
            call, retries=self.retries, backoff_seconds=self.backoff_seconds, what=f"gemini {job.id}"
        )

    def _image(self, response: types.GenerateContentResponse, model: str) -> Generated:
        feedback = response.prompt_feedback
        if feedback is not None and feedback.block_reason is not None:
            reason = feedback.block_reason_message or str(feedback.block_reason.value)
            raise ProviderRejected(f"Gemini blocked the prompt: {reason}")
        candidate = (response.candidates or [None])[0]
        if candidate is None:
            raise Transient("Gemini returned no image.")
        finish = candidate.finish_reason.value if candidate.finish_reason is not None else None
        if finish in _BLOCKED:
            detail = candidate.finish_message or finish
            raise ProviderRejected(f"Gemini blocked the image: {detail}")
        for part in (candidate.content.parts or []) if candidate.content is not None else []:
            inline = part.inline_data
            if inline is not None and inline.data and (inline.mime_type or "").startswith("image/"):
                data = inline.data if isinstance(inline.data, bytes) else base64.b64decode(inline.data)
                metadata: dict[str, Any] = {"finishReason": finish, "modelVersion": response.model_version}
                if response.usage_metadata is not None:
                    metadata["totalTokens"] = response.usage_metadata.total_token_count
                return Generated(data, inline.mime_type or "image/png", self.name, model, metadata)
        raise Transient("Gemini returned no image.")
