"""Wires the generation service: the job worker, its providers, the media uploader and health."""

from __future__ import annotations

import httpx
from fastapi import FastAPI

from makefx_bus import Bus
from makefx_generation.budget import BudgetGate
from makefx_generation.media import MediaBytes, MediaUploader
from makefx_generation.providers import Provider, Providers
from makefx_generation.providers.elevenlabs import ElevenLabsProvider
from makefx_generation.providers.gemini import GeminiImageProvider
from makefx_generation.providers.lyria import LyriaProvider
from makefx_generation.providers.veo import VeoProvider
from makefx_generation.references import ReferenceReader
from makefx_generation.settings import GenerationSettings
from makefx_generation.space_watch import SpaceWatch
from makefx_generation.worker import JobWorker
from makefx_router import ReplicaDirectory, SpaceRouter
from makefx_runtime import Service, build_app


def bootstrap(settings: GenerationSettings, *, providers: Providers | None = None) -> FastAPI:
    """The app. Providers default to those configured in `settings` (`local` for any without a key)."""
    bus = Bus(settings)
    directory = ReplicaDirectory(bus)
    router = SpaceRouter(bus, directory)
    http = httpx.AsyncClient(timeout=settings.ingest_timeout_seconds)
    media = MediaBytes(timeout_seconds=settings.ingest_timeout_seconds)
    uploader = MediaUploader(bus, media, ingest_timeout_seconds=settings.ingest_timeout_seconds)
    worker = JobWorker(
        bus,
        router,
        providers or configured_providers(settings, http),
        uploader,
        settings,
        references=ReferenceReader(bus, router, media),
        budget=BudgetGate(bus, timeout_seconds=settings.budget_timeout_seconds),
        watch=SpaceWatch(bus),
    )

    async def start() -> None:
        await media.start()
        await directory.start()
        await worker.start()

    async def stop() -> None:
        await worker.stop()
        await directory.stop()
        await http.aclose()
        await media.close()

    return build_app(
        Service(
            settings=settings,
            bus=bus,
            title="Make Effects generation",
            on_start=[start],
            on_stop=[stop],
            liveness=[worker.consumer.problem],
            extra={"worker": worker},
        )
    )


def configured_providers(settings: GenerationSettings, http: httpx.AsyncClient) -> Providers:
    """A real provider for each key configured; `local` stands in for the others."""
    configured: dict[str, Provider] = {}
    retries = {"retries": settings.provider_retries, "backoff_seconds": settings.provider_backoff_seconds}
    if settings.gemini_api_key is not None:
        configured["gemini"] = GeminiImageProvider(
            settings.gemini_api_key.get_secret_value(), base_url=settings.gemini_base_url, **retries
        )
    if settings.elevenlabs_api_key is not None:
        configured["elevenlabs"] = ElevenLabsProvider(
            settings.elevenlabs_api_key.get_secret_value(), base_url=settings.elevenlabs_base_url, **retries
        )
    vertex_key = settings.vertex_api_key.get_secret_value() if settings.vertex_api_key is not None else None
    if vertex_key is not None or settings.vertex_project is not None:
        vertex = {"project": settings.vertex_project, "location": settings.vertex_location}
        vertex |= {"api_key": vertex_key, "base_url": settings.vertex_base_url}
        configured["veo"] = VeoProvider(**vertex, **retries, poll_seconds=settings.veo_poll_seconds)
        configured["lyria"] = LyriaProvider(http, **vertex, **retries)
    return Providers(configured)
