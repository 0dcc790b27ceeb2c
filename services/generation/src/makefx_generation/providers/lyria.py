"""Lyria music on Vertex AI (`publishers/google/models/lyria-002:predict`); only `music` assets may choose it.

google-genai has no call for Lyria's batch `:predict`, so this speaks Vertex's REST API
through httpx, with the same retry rules as the other providers.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence

import httpx

from makefx_contracts.generation import GenerationJob
from makefx_generation.providers.base import Generated, ProgressReport, ProviderRejected, Reference, no_progress
from makefx_generation.providers.retry import Transient, with_retries

API_MODEL = "lyria-002"
LYRIA_SECONDS = 30.0
"""Lyria 2 makes 30-second clips of 48 kHz WAV."""


class LyriaProvider:
    name = "lyria"
    takes_references = False

    def __init__(
        self,
        http: httpx.AsyncClient,
        *,
        api_key: str | None = None,
        project: str | None = None,
        location: str = "us-central1",
        base_url: str | None = None,
        retries: int = 3,
        backoff_seconds: float = 1.0,
    ) -> None:
        self.http = http
        self.api_key = api_key
        base = (base_url or f"https://{location}-aiplatform.googleapis.com").rstrip("/")
        scope = f"/projects/{project}/locations/{location}" if project else ""
        self.url = f"{base}/v1{scope}/publishers/google/models/{API_MODEL}:predict"
        self.retries = retries
        self.backoff_seconds = backoff_seconds

    async def generate(
        self, job: GenerationJob, report: ProgressReport = no_progress, references: Sequence[Reference] = ()
    ) -> Generated:
        if job.asset_type != "music":
            raise ProviderRejected("Lyria only makes music; choose ElevenLabs for other audio.")
        body = {"instances": [{"prompt": str(job.recipe.get("prompt", ""))}], "parameters": {"sampleCount": 1}}
        headers = {"x-goog-api-key": self.api_key} if self.api_key else {}

        async def call() -> Generated:
            try:
                response = await self.http.post(self.url, json=body, headers=headers)
            except httpx.HTTPError as error:
                raise Transient(f"Lyria could not be reached ({type(error).__name__}).") from error
            if response.status_code == 429 or response.status_code >= 500:
                raise Transient(f"Lyria is unavailable right now ({response.status_code}).")
            if response.status_code >= 400:
                try:
                    reason = response.json()["error"]["message"]
                except (ValueError, KeyError, TypeError):
                    reason = f"HTTP {response.status_code}"
                raise ProviderRejected(f"Lyria refused the request: {reason}")
            try:
                prediction = response.json()["predictions"][0]
                data = base64.b64decode(prediction.get("bytesBase64Encoded") or prediction["audioContent"])
            except (ValueError, KeyError, IndexError, TypeError) as error:
                raise Transient("Lyria returned no audio.") from error
            mime = prediction.get("mimeType", "audio/wav")
            return Generated(
                data, mime, self.name, str(job.recipe.get("model")), {"apiModel": API_MODEL}, LYRIA_SECONDS
            )

        what = f"lyria {job.id}"
        return await with_retries(call, retries=self.retries, backoff_seconds=self.backoff_seconds, what=what)
