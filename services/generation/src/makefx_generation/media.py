"""Storing a generated file through the media service: a signed PUT to staging, then ingest."""

from __future__ import annotations

import httpx

from makefx_bus import Bus
from makefx_contracts.errors import Unavailable
from makefx_contracts.generation import GenerationJob
from makefx_contracts.media import IngestMedia, MediaIngested, SignedUrl, SignMedia, SignMethod
from makefx_generation.providers import Generated


def staging_key(space_id: str, variant_id: str) -> str:
    return f"staging/{space_id}/{variant_id}"


class MediaUploader:
    def __init__(self, bus: Bus, http: httpx.AsyncClient, *, ingest_timeout_seconds: float) -> None:
        self.bus = bus
        self.http = http
        self.ingest_timeout = ingest_timeout_seconds

    async def sign(self, job: GenerationJob, *, valid_seconds: float) -> SignedUrl:
        """The signed PUT for the job's staging key; asked while the provider works, so it costs no time after."""
        key = staging_key(job.space_id, job.variant_id)
        return await self.bus.request(SignMedia(key=key, method=SignMethod.PUT, expires_seconds=int(valid_seconds) + 1))

    async def store(self, job: GenerationJob, generated: Generated, signed: SignedUrl | None = None) -> MediaIngested:
        """PUT the bytes to `staging/{spaceId}/{variantId}`, then have them checked and filed under the seed's keys."""
        if signed is None:
            signed = await self.sign(job, valid_seconds=600)
        headers = {"Content-Type": generated.mime_type, **signed.headers}
        try:
            response = await self.http.put(signed.url, content=generated.data, headers=headers)
        except httpx.HTTPError as error:
            raise Unavailable(f"storing the media failed: {error}") from error
        if response.status_code >= 300:
            raise Unavailable(
                f"storing the media failed with HTTP {response.status_code}",
                details={"status": response.status_code, "body": response.text[:500]},
            )
        return await self.bus.request(
            IngestMedia(
                space_id=job.space_id,
                variant_id=job.variant_id,
                media_kind=job.media_kind,
                declared_content_type=generated.mime_type,
            ),
            timeout=self.ingest_timeout,
        )
