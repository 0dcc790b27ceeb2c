"""Wires the media service: the object store, the service, its responders and its byte endpoint."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware

from makefx_bus import Bus
from makefx_media import handlers
from makefx_media.http import byte_router
from makefx_media.service import MediaService
from makefx_media.settings import MediaSettings
from makefx_media.signing import UrlSigner
from makefx_runtime import Service, build_app
from makefx_storage import StorageUnavailable, open_store


def bootstrap(settings: MediaSettings) -> FastAPI:
    bus = Bus(settings)
    store = open_store(settings)
    signer = (
        UrlSigner(settings.media_signing_secret.get_secret_value().encode(), settings.public_url)
        if settings.media_signing_secret is not None
        else None
    )
    service = MediaService(store, settings, signer)
    handlers.register(bus, service)

    async def store_answers() -> str | None:
        try:
            await store.exists("readyz")
        except StorageUnavailable as error:
            return f"object store: {error.message}"
        return None

    routers = []
    if signer is not None:
        routers.append(byte_router(store, signer, max_upload_bytes=settings.max_upload_bytes))
    app = build_app(
        Service(
            settings=settings,
            bus=bus,
            title="Make Effects media",
            routers=routers,
            on_start=[store.start],
            on_stop=[store.close],
            checks=[store_answers],
        )
    )
    if signer is not None:
        # Browsers PUT uploads to (and may GET) signed URLs from the app's own origin.
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.media_cors_origins,
            allow_credentials=False,
            allow_methods=["GET", "HEAD", "PUT"],
            allow_headers=["*"],
            expose_headers=["ETag", "Content-Range", "Accept-Ranges", "Content-Length"],
            max_age=600,
        )
    app.state.media = service
    return app
