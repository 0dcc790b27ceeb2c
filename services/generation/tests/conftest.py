"""Fixtures of the generation tests: the product as real processes (nats, space-state, media, gateway, generation).

Each service runs `python -m makefx_<name>` with its settings in the environment, as in
production; a test may kill one (SIGKILL) and start it again. Output goes to files in the
test's folder, shown when a service does not come up.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import nats
import nats.errors
import pytest
import websockets
from websockets.asyncio.client import ClientConnection

from makefx_cli.nats_server import NatsServer, free_port
from makefx_contracts.subjects import STREAM_USAGE, USAGE_EVENTS

from .fakes import FakeServer, serving

PASSWORD = "correct horse battery"
NOT_EVENTS = frozenset({"ack", "error", "sync:state", "presence:update", "generate:started", "refine:started"})


@dataclass
class Process:
    name: str
    port: int
    env: dict[str, str]
    log: Path
    popen: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        with self.log.open("ab") as out:
            self.popen = subprocess.Popen(
                [sys.executable, "-m", f"makefx_{self.name.replace('-', '_')}"],
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def kill(self) -> None:
        if self.popen is not None and self.popen.poll() is None:
            self.popen.send_signal(signal.SIGKILL)
            self.popen.wait(timeout=10)

    def stop(self) -> None:
        if self.popen is not None and self.popen.poll() is None:
            self.popen.send_signal(signal.SIGTERM)
            try:
                self.popen.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill()

    async def wait_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        async with httpx.AsyncClient(timeout=2) as client:
            while time.monotonic() < deadline:
                assert self.popen is not None
                if self.popen.poll() is not None:
                    break
                with contextlib.suppress(httpx.HTTPError):
                    if (await client.get(f"{self.url}/readyz")).status_code == 200:
                        return
                await asyncio.sleep(0.1)
        raise AssertionError(f"{self.name} did not become ready; its output:\n{self.log.read_text()[-4000:]}")


class Stack:
    def __init__(self, root: Path, *, generation_env: dict[str, str] | None = None) -> None:
        self.root = root
        self.nats = NatsServer(root / "nats")
        self.processes: dict[str, Process] = {}
        self.generation_env = generation_env or {}
        self.workers: list[Process] = []
        self.external_url: str | None = None

    def _env(self, name: str, port: int, **extra: str) -> dict[str, str]:
        env = {key: value for key, value in os.environ.items() if not key.startswith("MAKEFX_")}
        env.update(
            MAKEFX_NATS_URL=self.nats.url,
            MAKEFX_DATA_DIR=str(self.root / "data"),
            MAKEFX_HTTP_HOST="127.0.0.1",
            MAKEFX_HTTP_PORT=str(port),
            MAKEFX_JWT_SECRET="j" * 40,
            MAKEFX_MEDIA_SIGNING_SECRET="m" * 40,
            MAKEFX_LOG_FORMAT="text",
            MAKEFX_ACCESS_COOKIE_SECURE="false",
            MAKEFX_ARGON2_TIME_COST="1",
            MAKEFX_ARGON2_MEMORY_COST_KIB="8192",
            PYTHONUNBUFFERED="1",
        )
        env.update(extra)
        return env

    def add(self, name: str, **extra: str) -> Process:
        port = free_port()
        key = name if name not in self.processes else f"{name}-{uuid.uuid4().hex[:6]}"
        process = Process(name, port, self._env(name, port, **extra), self.root / f"{key}.log")
        self.processes[key] = process
        return process

    async def start(self, *, workers: int = 1, billing: bool = False) -> Stack:
        (self.root / "data").mkdir(parents=True, exist_ok=True)
        self.nats.start()
        first = [self.add("space-state", MAKEFX_REPLICA_ID="state-0"), self.add("media"), self.add("gateway")]
        if billing:
            first.append(self.add("billing"))
        for process in first:
            process.start()
        for process in first:
            await process.wait_ready()
        for _ in range(workers):
            await self.start_worker()
        return self

    async def start_worker(self, **extra: str) -> Process:
        worker = self.add("generation", **{**self.generation_env, **extra})
        worker.start()
        await worker.wait_ready()
        self.workers.append(worker)
        return worker

    def stop(self) -> None:
        for process in reversed(list(self.processes.values())):
            process.stop()
        self.nats.stop()

    @property
    def gateway(self) -> Process:
        return self.processes["gateway"]

    @property
    def url(self) -> str:
        """The product's URL: this stack's gateway, or `external_url` when the product runs elsewhere."""
        return self.external_url or self.gateway.url

    # -- people and spaces ---------------------------------------------------------------

    async def register(self, name: str) -> dict[str, Any]:
        email = f"{name.lower()}-{uuid.uuid4().hex[:8]}@example.com"
        async with httpx.AsyncClient(base_url=self.url, timeout=15) as api:
            answer = await api.post("/api/auth/register", json={"email": email, "password": PASSWORD, "name": name})
            assert answer.status_code == 201, answer.text
            return {"email": email, "token": answer.json()["accessToken"]}

    async def shared_space(self) -> tuple[str, dict[str, Any], dict[str, Any]]:
        """A space with its owner and an editor."""
        owner, editor = await self.register("Owner"), await self.register("Editor")
        async with httpx.AsyncClient(base_url=self.url, timeout=15) as api:
            auth = {"Authorization": f"Bearer {owner['token']}"}
            created = await api.post("/api/spaces", json={"name": "Generation"}, headers=auth)
            assert created.status_code == 201, created.text
            space_id = created.json()["space"]["id"]
            added = await api.post(
                f"/api/spaces/{space_id}/members", json={"email": editor["email"], "role": "editor"}, headers=auth
            )
            assert added.status_code == 201, added.text
        return space_id, owner, editor

    async def connect(self, space_id: str, token: str) -> Peer:
        url = self.url.replace("http://", "ws://") + f"/api/spaces/{space_id}/ws"
        ws = await websockets.connect(url, additional_headers={"Authorization": f"Bearer {token}"}, max_size=None)
        peer = Peer(ws).start()
        await peer.send({"type": "sync:request"})
        await peer.wait_for(lambda frame: frame["type"] == "sync:state")
        return peer


@dataclass
class Peer:
    """A real WebSocket client: every frame it receives is kept, in order, as JSON."""

    ws: ClientConnection
    frames: list[dict[str, Any]] = field(default_factory=list)
    _arrived: asyncio.Event = field(default_factory=asyncio.Event)
    _closed: bool = False
    _reader: asyncio.Task[None] | None = None

    def start(self) -> Peer:
        self._reader = asyncio.create_task(self._read())
        return self

    async def _read(self) -> None:
        try:
            async for message in self.ws:
                self.frames.append(json.loads(message))
                self._arrived.set()
        except websockets.ConnectionClosed:
            pass
        finally:
            self._closed = True
            self._arrived.set()

    async def send(self, message: dict[str, Any]) -> None:
        await self.ws.send(json.dumps(message))

    async def wait_for(
        self, predicate: Callable[[dict[str, Any]], bool], *, timeout: float = 30, start: int = 0
    ) -> dict[str, Any]:
        index = start
        async with asyncio.timeout(timeout):
            while True:
                while index < len(self.frames):
                    if predicate(self.frames[index]):
                        return self.frames[index]
                    index += 1
                if self._closed:
                    raise AssertionError("the socket closed before the frame arrived")
                self._arrived.clear()
                await self._arrived.wait()

    async def call(self, type_: str, **fields: Any) -> dict[str, Any]:
        """Send with a fresh requestId; the `ack` or `error` answering it."""
        request_id = f"req-{uuid.uuid4().hex[:12]}"
        start = len(self.frames)
        await self.send({"type": type_, "requestId": request_id, **fields})
        return await self.wait_for(
            lambda frame: frame["type"] in ("ack", "error") and frame.get("requestId") == request_id, start=start
        )

    async def generate(self, type_: str = "generate:request", **fields: Any) -> dict[str, Any]:
        """A generate/refine request that must be accepted: its `generate:started` / `refine:started`."""
        request_id = f"req-{uuid.uuid4().hex[:12]}"
        start = len(self.frames)
        await self.send({"type": type_, "requestId": request_id, **fields})
        answer = await self.wait_for(
            lambda frame: (
                frame.get("requestId") == request_id
                and frame["type"] in ("error", "generate:started", "refine:started")
            ),
            start=start,
        )
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

    async def close(self) -> None:
        await self.ws.close()
        if self._reader is not None:
            await self._reader


@pytest.fixture
async def stack(tmp_path: Path) -> AsyncIterator[Stack]:
    """The product with one generation worker (the `local` providers)."""
    running = Stack(tmp_path)
    try:
        await running.start()
        yield running
    finally:
        running.stop()


@pytest.fixture
async def gemini() -> AsyncIterator[FakeServer]:
    """A fake Gemini `:generateContent` server (real HTTP)."""
    async with serving(FakeServer()) as fake:
        yield fake


@pytest.fixture
async def gemini_stack(tmp_path: Path, gemini: FakeServer) -> AsyncIterator[Stack]:
    """The product with one worker whose Gemini key is set and whose Gemini is the fake."""
    running = Stack(
        tmp_path,
        generation_env={
            "MAKEFX_GEMINI_API_KEY": "test-key",
            "MAKEFX_GEMINI_BASE_URL": gemini.url,
            "MAKEFX_PROVIDER_RETRIES": "1",
            "MAKEFX_PROVIDER_BACKOFF_SECONDS": "0",
        },
    )
    try:
        await running.start()
        yield running
    finally:
        running.stop()


async def usage_events(stack: Stack, count: int, *, timeout: float = 30) -> list[dict[str, Any]]:
    """The first `count` events of the `USAGE` stream (waiting for them), checked to be all there is."""
    client = await nats.connect(stack.nats.url)
    try:
        subscription = await client.jetstream().pull_subscribe(USAGE_EVENTS.fill(), stream=STREAM_USAGE)
        messages: list[Any] = []
        async with asyncio.timeout(timeout):
            while len(messages) < count:
                with contextlib.suppress(nats.errors.TimeoutError):
                    messages += await subscription.fetch(count - len(messages), timeout=1)
        with contextlib.suppress(nats.errors.TimeoutError):
            extra = await subscription.fetch(1, timeout=0.5)
            raise AssertionError(f"more usage events than {count}: {extra[0].data!r}")
        return [json.loads(message.data) | {"msgId": message.headers.get("Nats-Msg-Id")} for message in messages]
    finally:
        await client.close()
