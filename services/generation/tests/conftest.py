"""Fixtures of the generation tests: the product as real processes (nats, space-state, media, gateway, generation).

Each service runs `python -m makefx_<name>` with its settings in the environment, as in
production; a test may kill one (SIGKILL) and start it again. Output goes to files in the
test's folder, shown when a service does not come up.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from makefx_contracts.subjects import STREAM_USAGE, USAGE_EVENTS
from makefx_testing.gateway_api import Account, create_space, register
from makefx_testing.services import ServiceProcess, Services
from makefx_testing.sockets import SocketPeer
from makefx_testing.streams import stored_messages

from .fakes import FakeServer, serving

NOT_EVENTS = frozenset({"ack", "error", "sync:state", "presence:update", "generate:started", "refine:started"})


class Stack(Services):
    """The product as processes on one nats-server: space-state, media, gateway (billing if asked) and workers."""

    def __init__(self, root: Path, *, generation_env: dict[str, str] | None = None) -> None:
        super().__init__(root)
        self.generation_env = generation_env or {}
        self.workers: list[ServiceProcess] = []
        self.external_url: str | None = None

    async def start(self, *, workers: int = 1, billing: bool = False) -> Stack:
        self.start_nats()
        first = [self.add("space-state", MAKEFX_REPLICA_ID="state-0"), self.add("media"), self.add("gateway")]
        if billing:
            first.append(self.add("billing"))
        await self.launch(*first)
        for _ in range(workers):
            await self.start_worker()
        return self

    async def start_worker(self, **extra: str) -> ServiceProcess:
        worker = self.add("generation", **{**self.generation_env, **extra})
        await self.launch(worker)
        self.workers.append(worker)
        return worker

    @property
    def gateway(self) -> ServiceProcess:
        return self.processes["gateway"]

    @property
    def url(self) -> str:
        """The product's URL: this stack's gateway, or `external_url` when the product runs elsewhere."""
        return self.external_url or self.gateway.url

    # -- people and spaces ---------------------------------------------------------------

    async def shared_space(self) -> tuple[str, dict[str, Any], dict[str, Any]]:
        """A space with its owner and an editor."""
        owner, editor = await register(self.url, "Owner"), await register(self.url, "Editor")
        space_id = await create_space(self.url, owner, "Generation", {editor: "editor"})
        return space_id, _as_dict(owner), _as_dict(editor)

    async def connect(self, space_id: str, token: str) -> Peer:
        return await Peer.connect(self.url, space_id, token)


def _as_dict(account: Account) -> dict[str, Any]:
    """A person as the generation tests hold one."""
    return {"email": account.email, "token": account.token}


class Peer(SocketPeer):
    """A member's socket, with the generation requests and what they lead to."""

    async def generate(self, type_: str = "generate:request", **fields: Any) -> dict[str, Any]:
        """A generate/refine request that must be accepted: its `generate:started` / `refine:started`."""
        answer = await self.request(type_, ("error", "generate:started", "refine:started"), **fields)
        assert answer["type"] != "error", answer
        return answer

    def variant_states(self, variant_id: str) -> list[str]:
        return [
            frame["variant"]["status"]
            for frame in self.frames
            if frame["type"] in ("variant:created", "variant:updated") and frame["variant"]["id"] == variant_id
        ]

    async def result(self, variant_id: str, *, timeout: float = 60) -> dict[str, Any]:
        """The `generate:result` of the variant's latest attempt (waits for it)."""
        return await self.wait_for(
            lambda frame: frame["type"] == "generate:result" and frame["variantId"] == variant_id, timeout=timeout
        )

    def latest(self, variant_id: str) -> dict[str, Any]:
        """The variant as the last `variant:created`/`variant:updated` received showed it."""
        return [
            frame["variant"]
            for frame in self.frames
            if frame["type"] in ("variant:created", "variant:updated") and frame["variant"]["id"] == variant_id
        ][-1]

    def lineage_of(self, variant_id: str) -> set[tuple[str, str]]:
        """(parent variant, relation) of every `lineage:created` received for the variant as the child."""
        return {
            (frame["lineage"]["parent_variant_id"], frame["lineage"]["relation_type"])
            for frame in self.frames
            if frame["type"] == "lineage:created" and frame["lineage"]["child_variant_id"] == variant_id
        }


@contextlib.asynccontextmanager
async def running_stack(
    tmp_path: Path, generation_env: dict[str, str] | None = None, **start: Any
) -> AsyncIterator[Stack]:
    """The product started (its worker with `generation_env`; `start` as `Stack.start` takes), stopped after."""
    running = Stack(tmp_path, generation_env=generation_env)
    try:
        await running.start(**start)
        yield running
    finally:
        running.stop()


@pytest.fixture
async def stack(tmp_path: Path) -> AsyncIterator[Stack]:
    """The product with one generation worker (the `local` providers)."""
    async with running_stack(tmp_path) as running:
        yield running


@pytest.fixture
async def gemini() -> AsyncIterator[FakeServer]:
    """A fake Gemini `:generateContent` server (real HTTP)."""
    async with serving(FakeServer()) as fake:
        yield fake


@pytest.fixture
async def gemini_stack(tmp_path: Path, gemini: FakeServer) -> AsyncIterator[Stack]:
    """The product with one worker whose Gemini key is set and whose Gemini is the fake."""
    generation_env = {
        "MAKEFX_GEMINI_API_KEY": "test-key",
        "MAKEFX_GEMINI_BASE_URL": gemini.url,
        "MAKEFX_PROVIDER_RETRIES": "1",
        "MAKEFX_PROVIDER_BACKOFF_SECONDS": "0",
    }
    async with running_stack(tmp_path, generation_env) as running:
        yield running


@pytest.fixture
async def vertex() -> AsyncIterator[FakeServer]:
    """A fake Vertex AI server (Veo's long-running operations, Lyria's `:predict`), real HTTP."""
    async with serving(FakeServer()) as fake:
        yield fake


@pytest.fixture
async def vertex_stack(tmp_path: Path, vertex: FakeServer) -> AsyncIterator[Stack]:
    """The product with one worker whose Vertex key is set (Veo and Lyria) and whose Vertex is the fake."""
    generation_env = {
        "MAKEFX_VERTEX_API_KEY": "vx-key",
        "MAKEFX_VERTEX_BASE_URL": vertex.url,
        "MAKEFX_VEO_POLL_SECONDS": "0.1",
        "MAKEFX_PROVIDER_RETRIES": "1",
        "MAKEFX_PROVIDER_BACKOFF_SECONDS": "0",
    }
    async with running_stack(tmp_path, generation_env) as running:
        yield running


async def usage_events(stack: Stack, count: int, *, timeout: float = 30) -> list[dict[str, Any]]:
    """The first `count` events of the `USAGE` stream (waiting for them), checked to be all there is."""
    return await stored_messages(
        stack.nats.url, stream=STREAM_USAGE, subject=USAGE_EVENTS.fill(), count=count, timeout=timeout
    )
