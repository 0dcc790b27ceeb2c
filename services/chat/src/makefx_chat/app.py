"""Wires the chat service: the turn worker, its assistant (Claude, or `local` without a key) and health."""

from __future__ import annotations

import anthropic
from fastapi import FastAPI

from makefx_bus import Bus
from makefx_chat.assistant import Assistant
from makefx_chat.claude import ClaudeAssistant
from makefx_chat.local import LocalAssistant
from makefx_chat.settings import ChatSettings
from makefx_chat.worker import TurnWorker
from makefx_router import ReplicaDirectory, SpaceRouter
from makefx_runtime import Service, build_app


def bootstrap(settings: ChatSettings, *, assistant: Assistant | None = None) -> FastAPI:
    """The app. The assistant defaults to the one `settings` configure."""
    bus = Bus(settings)
    directory = ReplicaDirectory(bus)
    router = SpaceRouter(bus, directory)
    worker = TurnWorker(bus, router, assistant or configured_assistant(settings), settings)

    async def start() -> None:
        await directory.start()
        await worker.start()

    async def stop() -> None:
        await worker.stop()
        await directory.stop()
        if isinstance(worker.assistant, ClaudeAssistant):
            await worker.assistant.client.close()

    return build_app(
        Service(
            settings=settings,
            bus=bus,
            title="Make Effects chat",
            on_start=[start],
            on_stop=[stop],
            liveness=[worker.consumer.problem],
            extra={"worker": worker},
        )
    )


def configured_assistant(settings: ChatSettings) -> Assistant:
    """Claude when a key is configured; otherwise `local`, which answers offline from the space."""
    if settings.anthropic_api_key is None:
        return LocalAssistant()
    client = anthropic.AsyncAnthropic(
        api_key=settings.anthropic_api_key.get_secret_value(),
        base_url=settings.anthropic_base_url,
        timeout=settings.anthropic_timeout_seconds,
        max_retries=settings.anthropic_max_retries,
    )
    return ClaudeAssistant(
        client, model=settings.chat_model, max_tokens=settings.chat_max_tokens, stream=settings.chat_stream
    )
