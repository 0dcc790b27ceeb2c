"""A job's reference images, for a provider that sends them along (Gemini's inline image parts).

A refinement's source image comes first, then the references. The recipe names
variants, not keys: the space's owner says where each one's
media is, and the bytes come from the store through a signed GET, like any other reader's;
bytes never ride the bus.
"""

from __future__ import annotations

import asyncio

from makefx_bus import Bus
from makefx_contracts.errors import NotFound
from makefx_contracts.generation import GenerationJob
from makefx_contracts.media import SignedUrl, SignMedia, SignMethod
from makefx_contracts.rows import MediaKind
from makefx_contracts.space import GetVariant, VariantDetail
from makefx_generation.media import MediaBytes
from makefx_generation.providers import ProviderRejected, Reference
from makefx_router import SpaceRouter

_SIGNED_SECONDS = 120


def reference_ids(job: GenerationJob) -> list[str]:
    """The images a provider is shown: a refinement's source first, then the references, each once."""
    ids = job.recipe.get("referenceVariantIds") or []
    source = job.recipe.get("sourceVariantId")
    ordered = ([str(source)] if source else []) + (
        [str(variant_id) for variant_id in ids] if isinstance(ids, list) else []
    )
    return list(dict.fromkeys(ordered))


class ReferenceReader:
    def __init__(self, bus: Bus, router: SpaceRouter, media: MediaBytes) -> None:
        self.bus = bus
        self.router = router
        self.media = media

    async def read(self, job: GenerationJob) -> list[Reference]:
        """Every reference image of the job, in the recipe's order, read at once.

        A reference deleted since the request fails the attempt (`ProviderRejected`, said to
        the user); the store or the owner not answering is `Unavailable` (the job is retried).
        """
        return list(await asyncio.gather(*(self._read_one(job, variant_id) for variant_id in reference_ids(job))))

    async def _read_one(self, job: GenerationJob, variant_id: str) -> Reference:
        try:
            detail: VariantDetail = await self.router.request(
                job.space_id, GetVariant(space_id=job.space_id, variant_id=variant_id)
            )
        except NotFound:
            raise ProviderRejected(f"The reference variant {variant_id} no longer exists.") from None
        variant = detail.variant
        key = variant.image_key or variant.media_key
        if variant.media_kind is not MediaKind.IMAGE or key is None:
            raise ProviderRejected(f"The reference variant {variant_id} is not a finished image.")
        signed: SignedUrl = await self.bus.request(
            SignMedia(key=key, method=SignMethod.GET, expires_seconds=_SIGNED_SECONDS)
        )
        data, content_type = await self.media.get(signed, what=f"reading reference {variant_id}")
        mime_type = variant.media_mime_type or content_type or "image/png"
        return Reference(variant_id, data, mime_type.split(";")[0].strip())
