"""Fixtures of the chat tests: real processes (nats, space-state, gateway, chat) and a bus client acting as a gateway.

Each service runs `python -m makefx_<name>` with its settings in the environment, as in
production. The test speaks to the space's owner as the gateway would (space commands
through the `SpaceRouter`), listens to the deltas on core NATS and reads `USAGE`.
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
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import nats
import nats.errors
import pytest

from makefx_bus import Bus
from makefx_cli.nats_server import NatsServer, free_port
from makefx_contracts.chat import ChatDelta, reply_id
from makefx_contracts.events import ChatMessagePosted
from makefx_contracts.identity import Role
from makefx_contracts.rows import ChatMessageRow, ChatMode, ChatRole
from makefx_contracts.space import Actor, GetChatHistory, SendChat
from makefx_contracts.subjects import CHAT_DELTAS, STREAM_USAGE, USAGE_EVENTS
from makefx_router import ReplicaDirectory, SpaceRouter
from makefx_settings import ServiceSettings

from .fake_anthropic import FakeAnthropic, serving

PASSWORD = "correct horse battery"


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

    def stop(self) -> None:
        if self.popen is not None and self.popen.poll() is None:
            self.popen.send_signal(signal.SIGTERM)
            try:
                self.popen.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.popen.send_signal(signal.SIGKILL)
                self.popen.wait(timeout=10)

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


@dataclass
class Person:
    user_id: str
    email: str
    token: str

    def actor(self, role: Role = Role.OWNER) -> Actor:
        return Actor(user_id=self.user_id, role=role)


@dataclass
class Deltas:
    """Every `chat:delta` published for a space, in arrival order."""

    received: list[ChatDelta] = field(default_factory=list)

    def of(self, message_id: str) -> list[ChatDelta]:
        return [delta for delta in self.received if delta.message_id == message_id]


class Stack:
    def __init__(self, root: Path, chat_env: dict[str, str] | None = None) -> None:
        self.root = root
        self.nats = NatsServer(root / "nats")
        self.processes: dict[str, Process] = {}
        self.chat_env = chat_env or {}
        self.bus: Bus | None = None
        self.directory: ReplicaDirectory | None = None
        self.router: SpaceRouter | None = None

    def _env(self, port: int, **extra: str) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("MAKEFX_", "ANTHROPIC_"))}
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
        process = Process(name, port, self._env(port, **extra), self.root / f"{name}.log")
        self.processes[name] = process
        return process

    async def start(self) -> Stack:
        (self.root / "data").mkdir(parents=True, exist_ok=True)
        self.nats.start()
        chat_env = {"MAKEFX_TURNS_BACKOFF_SECONDS": "[0.5]", **self.chat_env}
        started = [
            self.add("space-state", MAKEFX_REPLICA_ID="state-0"),
            self.add("gateway"),
            self.add("chat", **chat_env),
        ]
        for process in started:
            process.start()
        for process in started:
            await process.wait_ready()
        self.bus = Bus(ServiceSettings(nats_url=self.nats.url, service_name="chat-tests"))
        await self.bus.start()
        self.directory = ReplicaDirectory(self.bus)
        await self.directory.start()
        self.router = SpaceRouter(self.bus, self.directory)
        return self

    async def stop(self) -> None:
        if self.directory is not None:
            await self.directory.stop()
        if self.bus is not None:
            await self.bus.stop()
        for process in reversed(list(self.processes.values())):
            process.stop()
        self.nats.stop()

    # -- people, spaces and messages --------------------------------------------------------

    async def register(self, name: str) -> Person:
        email = f"{name.lower()}-{uuid.uuid4().hex[:8]}@example.com"
        async with httpx.AsyncClient(base_url=self.processes["gateway"].url, timeout=15) as api:
            answer = await api.post("/api/auth/register", json={"email": email, "password": PASSWORD, "name": name})
            assert answer.status_code == 201, answer.text
            body = answer.json()
            return Person(body["user"]["id"], email, body["accessToken"])

    async def space(self, owner: Person) -> str:
        async with httpx.AsyncClient(base_url=self.processes["gateway"].url, timeout=15) as api:
            created = await api.post(
                "/api/spaces", json={"name": "Chat"}, headers={"Authorization": f"Bearer {owner.token}"}
            )
            assert created.status_code == 201, created.text
            return created.json()["space"]["id"]

    async def send(self, space_id: str, person: Person, content: str, mode: ChatMode = ChatMode.ADVISOR) -> str:
        """A person's chat message, stored by the owner (which queues its turn); its message id."""
        assert self.router is not None
        applied = await self.router.request(
            space_id,
            SendChat(
                space_id=space_id,
                request_id=uuid.uuid4().hex,
                actor=person.actor(),
                content=content,
                mode=mode,
            ),
        )
        [posted] = [event for event in applied.events if isinstance(event, ChatMessagePosted)]
        return posted.message.id

    async def history(self, space_id: str) -> list[ChatMessageRow]:
        assert self.router is not None
        return (await self.router.request(space_id, GetChatHistory(space_id=space_id))).messages

    async def reply_to(self, space_id: str, message_id: str, *, timeout: float = 30) -> ChatMessageRow:
        """The bot's stored reply to `message_id` (waits for it)."""
        async with asyncio.timeout(timeout):
            while True:
                for message in await self.history(space_id):
                    if message.id == reply_id(message_id) and message.role == ChatRole.ASSISTANT:
                        return message
                await asyncio.sleep(0.1)

    @contextlib.asynccontextmanager
    async def deltas(self, space_id: str) -> AsyncIterator[Deltas]:
        client = await nats.connect(self.nats.url)
        seen = Deltas()

        async def on_delta(message: Any) -> None:
            seen.received.append(ChatDelta.model_validate_json(message.data))

        await client.subscribe(CHAT_DELTAS.fill(space_id=space_id), cb=on_delta)
        await client.flush()
        try:
            yield seen
        finally:
            await client.drain()


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
            extra = await subscription.fetch(1, timeout=1)
            raise AssertionError(f"more usage events than {count}: {extra[0].data!r}")
        return [json.loads(message.data) | {"msgId": message.headers.get("Nats-Msg-Id")} for message in messages]
    finally:
        await client.close()


@pytest.fixture
async def stack(tmp_path: Path) -> AsyncIterator[Stack]:
    """The product with the chat service's `local` assistant (no Anthropic key)."""
    running = Stack(tmp_path)
    try:
        await running.start()
        yield running
    finally:
        await running.stop()


@pytest.fixture
async def claude() -> AsyncIterator[FakeAnthropic]:
    async with serving(FakeAnthropic()) as fake:
        yield fake


@pytest.fixture
async def claude_stack(tmp_path: Path, claude: FakeAnthropic) -> AsyncIterator[Stack]:
    """The product with the chat service talking to the fake Messages API through the real SDK."""
    running = Stack(
        tmp_path,
        chat_env={
            "MAKEFX_ANTHROPIC_API_KEY": claude.api_key,
            "MAKEFX_ANTHROPIC_BASE_URL": claude.url,
            "MAKEFX_ANTHROPIC_MAX_RETRIES": "1",
        },
    )
    try:
        await running.start()
        yield running
    finally:
        await running.stop()
