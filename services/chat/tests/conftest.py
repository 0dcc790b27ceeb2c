"""Fixtures of the chat tests: real processes (nats, space-state, gateway, chat) and a bus client acting as a gateway.

Each service runs `python -m makefx_<name>` with its settings in the environment, as in
production. The test speaks to the space's owner as the gateway would (space commands
through the `SpaceRouter`), listens to the deltas on core NATS and reads `USAGE`.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import nats
import nats.errors
import pytest

from makefx_bus import Bus
from makefx_contracts.chat import ChatDelta, reply_id
from makefx_contracts.events import ChatMessagePosted
from makefx_contracts.identity import Role
from makefx_contracts.rows import ChatMessageRow, ChatMode, ChatRole
from makefx_contracts.space import Actor, GetChatHistory, SendChat
from makefx_contracts.subjects import CHAT_DELTAS, STREAM_USAGE, USAGE_EVENTS
from makefx_router import ReplicaDirectory, SpaceRouter
from makefx_settings import ServiceSettings
from makefx_testing.gateway_api import Account, create_space, register
from makefx_testing.services import Services
from makefx_testing.streams import stored_messages

from .fake_anthropic import FakeAnthropic, serving


@dataclass(frozen=True)
class Person(Account):
    """A registered person, who acts in a space as its owner unless told otherwise."""

    @property
    def user_id(self) -> str:
        return self.id

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
        self.services = Services(root)
        self.nats = self.services.nats
        self.processes = self.services.processes
        self.chat_env = chat_env or {}
        self.bus: Bus | None = None
        self.directory: ReplicaDirectory | None = None
        self.router: SpaceRouter | None = None

    async def start(self) -> Stack:
        self.services.start_nats()
        chat_env = {"MAKEFX_TURNS_BACKOFF_SECONDS": "[0.5]", **self.chat_env}
        await self.services.launch(
            self.services.add("space-state", MAKEFX_REPLICA_ID="state-0"),
            self.services.add("gateway"),
            self.services.add("chat", **chat_env),
        )
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
        self.services.stop()

    # -- people, spaces and messages --------------------------------------------------------

    async def register(self, name: str) -> Person:
        account = await register(self.processes["gateway"].url, name)
        return Person(account.id, account.email, account.token)

    async def space(self, owner: Person) -> str:
        return await create_space(self.processes["gateway"].url, owner, "Chat")

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
    return await stored_messages(
        stack.nats.url, stream=STREAM_USAGE, subject=USAGE_EVENTS.fill(), count=count, timeout=timeout
    )


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
