"""Responders on `fx.media.*`: decode the request, call the service, return its reply."""

from __future__ import annotations

from makefx_bus import Bus
from makefx_contracts.media import (
    DeleteVariantMedia,
    IngestMedia,
    MediaIngested,
    MediaProbed,
    ProbeMedia,
    SignedUrl,
    SignMedia,
    VariantMediaDeleted,
)
from makefx_media.service import MediaService


def register(bus: Bus, service: MediaService) -> None:
    async def on_ingest_media(request: IngestMedia) -> MediaIngested:
        return await service.ingest(request)

    async def on_probe_media(request: ProbeMedia) -> MediaProbed:
        return await service.probe(request)

    async def on_delete_variant_media(request: DeleteVariantMedia) -> VariantMediaDeleted:
        return await service.delete_variant(request)

    async def on_sign_media(request: SignMedia) -> SignedUrl:
        return await service.sign(request)

    bus.responder(on_ingest_media)
    bus.responder(on_probe_media)
    bus.responder(on_delete_variant_media)
    bus.responder(on_sign_media)
