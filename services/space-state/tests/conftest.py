"""Fixtures for the space-state tests: real SQLite files in tmp_path, a real bus on the session's nats-server."""

from __future__ import annotations

import itertools
import json
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import nats.js.errors
import pytest

from makefx_bus import Bus
from makefx_contracts.events import SpaceEvent, VariantCreated
from makefx_contracts.identity import Role
from makefx_contracts.rows import AssetRow, MediaKind, VariantRow, VariantStatus
from makefx_contracts.space import (
    Actor,
    Applied,
    CreateAsset,
    GetSpaceState,
    SpaceCommand,
    SpaceSnapshot,
)
from makefx_contracts.subjects import SPACE_EVENTS, STREAM_SPACE_EVENTS
from makefx_settings import ServiceSettings
from makefx_space_state.ports import EventPublisher
from makefx_space_state.publisher import BusEventPublisher
from makefx_space_state.service import SpaceService
from makefx_space_state.spaces import OpenSpaces
from makefx_space_state.store.sqlite import SqliteSpaceFiles

OWNER = Actor(user_id="user-owner", role=Role.OWNER)
EDITOR = Actor(user_id="user-editor", role=Role.EDITOR)
VIEWER = Actor(user_id="user-viewer", role=Role.VIEWER)
StreamReader = Callable[[str], Awaitable[list[dict[str, Any]]]]


@pytest.fixture
async def bus(nats_server) -> AsyncIterator[Bus]:
    bus = Bus(ServiceSettings(nats_url=nats_server.url, service_name="space-state-tests"))
    await bus.start()
    yield bus
    await bus.stop()


@dataclass
class SpaceWorld:
    """A space-state replica's parts on one data directory, and helpers to drive one space."""

    data_dir: Path
    files: SqliteSpaceFiles
    spaces: OpenSpaces
    service: SpaceService
    space_id: str
    owner: ClassVar[Actor] = OWNER
    editor: ClassVar[Actor] = EDITOR
    viewer: ClassVar[Actor] = VIEWER

    def __post_init__(self) -> None:
        self._requests = itertools.count(1)

    def request_id(self) -> str:
        return f"req-{next(self._requests)}-{uuid.uuid4().hex[:8]}"

    def command(self, kind: type[SpaceCommand], actor: Actor = OWNER, **fields: Any) -> Any:
        fields.setdefault("request_id", self.request_id())
        return kind(space_id=self.space_id, actor=actor, **fields)

    async def apply(self, kind: type[SpaceCommand], actor: Actor = OWNER, **fields: Any) -> Applied:
        return await self.service.apply(self.command(kind, actor, **fields))

    async def create_asset(self, name: str = "Hero", **fields: Any) -> AssetRow:
        fields.setdefault("asset_type", "character")
        applied = await self.apply(CreateAsset, name=name, **fields)
        return applied.events[0].asset

    async def add_variant(
        self, asset_id: str, status: VariantStatus = VariantStatus.COMPLETED, *, created_at: int | None = None
    ) -> VariantRow:
        """A variant as generation will deliver it (a later issue): committed by replaying its event, then
        published as that command will publish it."""
        async with self.spaces.use(self.space_id) as space:
            seq = space.store.last_seq + 1
        variant_id = uuid.uuid4().hex
        variant = VariantRow(
            id=variant_id,
            asset_id=asset_id,
            media_kind=MediaKind.IMAGE,
            status=status,
            image_key=f"images/{self.space_id}/{variant_id}.png",
            thumb_key=f"images/{self.space_id}/{variant_id}_thumb.webp",
            media_key=f"images/{self.space_id}/{variant_id}.png",
            media_mime_type="image/png",
            recipe='{"prompt":"a hero","model":"gemini-3.1-flash-image"}',
            created_by=OWNER.user_id,
            created_at=created_at if created_at is not None else 1_700_000_000_000 + seq,
        )
        event = VariantCreated(space_id=self.space_id, seq=seq, at=variant.created_at, variant=variant)
        await self.service.replay(self.space_id, [event])
        await self.service.publisher.publish(event)
        return variant

    async def state(self) -> SpaceSnapshot:
        return await self.service.get_state(GetSpaceState(space_id=self.space_id))

    async def seq(self) -> int:
        return (await self.state()).seq


WorldFactory = Callable[..., SpaceWorld]


@pytest.fixture
async def make_world() -> AsyncIterator[WorldFactory]:
    """Builds replicas (a data directory each) with any publisher; closes their spaces at the end."""
    made: list[SpaceWorld] = []

    def make(data_dir: Path, publisher: EventPublisher, space_id: str | None = None, **options: Any) -> SpaceWorld:
        files = SqliteSpaceFiles(data_dir)
        spaces = OpenSpaces(
            files.open,
            ownership=options.pop("ownership", None),
            idle_close_seconds=options.pop("idle_close_seconds", 300),
            clock=options.pop("space_clock", time.monotonic),
        )
        service = SpaceService(spaces, publisher, files, **options)
        world = SpaceWorld(data_dir, files, spaces, service, space_id or uuid.uuid4().hex)
        made.append(world)
        return world

    yield make
    for world in made:
        await world.spaces.close_all()


@pytest.fixture
def world(tmp_path: Path, bus: Bus, make_world: WorldFactory) -> SpaceWorld:
    """One replica publishing to the test nats-server, and a fresh space id."""
    return make_world(tmp_path / "replica", BusEventPublisher(bus))


@pytest.fixture
def read_stream(bus: Bus) -> StreamReader:
    """Every message JetStream holds for a space, in stream order, as JSON objects."""

    async def read(space_id: str) -> list[dict[str, Any]]:
        subject = SPACE_EVENTS.fill(space_id=space_id)
        found: list[dict[str, Any]] = []
        seq = 1
        while True:
            try:
                message = await bus.js.get_msg(STREAM_SPACE_EVENTS, seq=seq, subject=subject, next=True)
            except nats.js.errors.NotFoundError:
                return found
            found.append(json.loads(message.data))
            seq = message.seq + 1

    return read


@pytest.fixture
def as_json() -> Callable[[list[SpaceEvent]], list[dict[str, Any]]]:
    """Events as the JSON objects that travel."""
    return lambda events: [json.loads(event.model_dump_json()) for event in events]
