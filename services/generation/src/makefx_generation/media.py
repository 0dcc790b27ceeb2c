"""The media service's bytes, through its signed URLs: storing a generated file (PUT to staging, then
ingest) and reading a reference image (GET).

The byte endpoint is spoken with aiohttp, not the httpx the provider SDKs bring: the signed
PUT through httpx was a fifth of the worker's CPU per job (profiled in the generation
bench, docs/decisions/0018).
"""

from __future__ import annotations

import aiohttp

from makefx_bus import Bus
from makefx_contracts.errors import Unavailable
from makefx_contracts.generation import GenerationJob
from makefx_contracts.media import IngestMedia, MediaIngested, SignedUrl, SignMedia, SignMethod
from makefx_generation.providers import Generated


def staging_key(space_id: str, variant_id: str) -> str:
    return f"staging/{space_id}/{variant_id}"


class MediaBytes:
    """One HTTP connection pool to the signed byte URLs; `start` it on the event loop that uses it."""

    def __init__(self, *, timeout_seconds: float) -> None:
        # Per step, as httpx counted it: a large video on a slow link may take longer in all.
        self.timeout = aiohttp.ClientTimeout(total=None, sock_connect=timeout_seconds, sock_read=timeout_seconds)
        self._session: aiohttp.ClientSession | None = None

    async def start(self) -> None:
        self._session = aiohttp.ClientSession(timeout=self.timeout)

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    @property
    def session(self) -> aiohttp.ClientSession:
        if self._session is None:
            raise Unavailable("the media client is not started")
        return self._session

    async def put(self, signed: SignedUrl, data: bytes, *, content_type: str, what: str) -> None:
        """PUT `data` to a signed URL; `Unavailable` (the job is retried) when the store does not take it."""
        headers = {"Content-Type": content_type, **signed.headers}
        try:
            async with self.session.put(signed.url, data=data, headers=headers) as response:
                if response.status >= 300:
                    raise Unavailable(
                        f"{what} failed with HTTP {response.status}",
                        details={"status": response.status, "body": (await response.text(errors="replace"))[:500]},
                    )
        except (aiohttp.ClientError, TimeoutError) as error:
            raise Unavailable(f"{what} failed: {error or type(error).__name__}") from error

    async def get(self, signed: SignedUrl, *, what: str) -> tuple[bytes, str | None]:
        """The bytes at a signed URL and their content type; `Unavailable` when they cannot be read."""
        try:
            async with self.session.get(signed.url, headers=signed.headers) as response:
                if response.status >= 300:
                    raise Unavailable(f"{what} failed with HTTP {response.status}", details={"status": response.status})
                return await response.read(), response.headers.get("content-type")
        except (aiohttp.ClientError, TimeoutError) as error:
            raise Unavailable(f"{what} failed: {error or type(error).__name__}") from error


class MediaUploader:
    def __init__(self, bus: Bus, media: MediaBytes, *, ingest_timeout_seconds: float) -> None:
        self.bus = bus
        self.media = media
        self.ingest_timeout = ingest_timeout_seconds

    async def sign(self, job: GenerationJob, *, valid_seconds: float) -> SignedUrl:
        """The signed PUT for the job's staging key; asked while the provider works, so it costs no time after."""
        key = staging_key(job.space_id, job.variant_id)
        return await self.bus.request(SignMedia(key=key, method=SignMethod.PUT, expires_seconds=int(valid_seconds) + 1))

    async def store(self, job: GenerationJob, generated: Generated, signed: SignedUrl | None = None) -> MediaIngested:
        """PUT the bytes to `staging/{spaceId}/{variantId}`, then have them checked and filed under the seed's keys."""
        if signed is None:
            signed = await self.sign(job, valid_seconds=600)
        await self.media.put(signed, generated.data, content_type=generated.mime_type, what="storing the media")
        return await self.bus.request(
            IngestMedia(
                space_id=job.space_id,
                variant_id=job.variant_id,
                media_kind=job.media_kind,
                declared_content_type=generated.mime_type,
            ),
            timeout=self.ingest_timeout,
        )
