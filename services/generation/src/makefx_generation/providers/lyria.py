"""Lyria music on Vertex AI (`publishers/google/models/lyria-002:predict`); only `music` assets may choose it.

google-genai has no call for Lyria's batch `:predict`, so this speaks Vertex's REST API
through httpx, with the same retry rules as the other providers. It authenticates as
google-genai does for Veo: the express-mode API key when there is one, otherwise an
access token from the application default credentials (`GOOGLE_APPLICATION_CREDENTIALS`,
the metadata server, …), fetched when first needed and again when it expires.
"""

from __future__ import annotations

import asyncio
import base64
import logging
from collections.abc import Sequence

import google.auth
import google.auth.transport.requests
import httpx
from google.auth import exceptions as auth_errors
from google.auth.credentials import Credentials

from makefx_contracts.generation import GenerationJob
from makefx_generation.providers.base import Generated, ProgressReport, ProviderRejected, Reference, no_progress
from makefx_generation.providers.retry import Transient, with_retries

log = logging.getLogger(__name__)

API_MODEL = "lyria-002"
LYRIA_SECONDS = 30.0
"""Lyria 2 makes 30-second clips of 48 kHz WAV."""
_SCOPE = "https://www.googleapis.com/auth/cloud-platform"


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
        self._credentials: Credentials | None = None
        self._refreshing = asyncio.Lock()

    async def generate(
        self, job: GenerationJob, report: ProgressReport = no_progress, references: Sequence[Reference] = ()
    ) -> Generated:
        if job.asset_type != "music":
            raise ProviderRejected("Lyria only makes music; choose ElevenLabs for other audio.")
        body = {"instances": [{"prompt": str(job.recipe.get("prompt", ""))}], "parameters": {"sampleCount": 1}}

        async def call() -> Generated:
            headers = await self._auth_headers()
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

    async def _auth_headers(self) -> dict[str, str]:
        """The API key's header, or a bearer token from the application default credentials."""
        if self.api_key:
            return {"x-goog-api-key": self.api_key}
        async with self._refreshing:
            try:
                if self._credentials is None:
                    self._credentials, _ = await asyncio.to_thread(google.auth.default, scopes=[_SCOPE])
                if not self._credentials.valid:
                    request = google.auth.transport.requests.Request()
                    await asyncio.to_thread(self._credentials.refresh, request)
            except auth_errors.DefaultCredentialsError as error:
                log.error("Lyria has no credentials: %s", error)
                raise ProviderRejected("Lyria is not configured: no Google Cloud credentials were found.") from error
            except auth_errors.GoogleAuthError as error:
                raise Transient(f"Lyria could not get a Google Cloud access token ({type(error).__name__}).") from error
            return {"Authorization": f"Bearer {self._credentials.token}"}
