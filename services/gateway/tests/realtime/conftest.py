"""Fixtures of the realtime tests: a real space-state replica behind real gateways, and real WebSocket clients.

Each test gets a nats-server of its own: replicas of other tests heartbeat into
`fx_state_replicas` of the shared server, and a space hashed to one of them would stall
this test until the router gives up. The gateway's global database is SQLite only here:
the socket reaches it through the same account and membership services the HTTP tests
run on both SQLite and PostgreSQL.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import websockets
from fastapi import FastAPI
from websockets.asyncio.client import ClientConnection

from makefx_cli.nats_server import NatsServer
from makefx_contracts.events import VariantCreated
from makefx_contracts.rows import VariantRow, VariantStatus
from makefx_space_state.app import bootstrap as bootstrap_space_state
from makefx_space_state.service import SpaceService
from makefx_space_state.settings import SpaceStateSettings
from makefx_testing.app_server import AppServer
from makefx_testing.sockets import SocketPeer

# Frames that are not space events: everything else a socket receives carries the space `seq`.
NOT_EVENTS = frozenset(
    {
        "ack",
        "error",
        "sync:state",
        "presence:update",
        "job:progress",
        "chat:delta",
        "chat:error",
        "chat:history",
        "approval:list",
        "member:role",
    }
)


@pytest.fixture(params=["sqlite"])
def database_url(request: pytest.FixtureRequest) -> None:
    """SQLite alone: the realtime code reaches the database only through services the HTTP tests cover on both."""
    return None


@pytest.fixture
def nats_server(fresh_nats_server: NatsServer) -> NatsServer:
    """This test's own nats-server, so no other test's replica is in the ring."""
    return fresh_nats_server


@dataclass
class Replica:
    settings: SpaceStateSettings
    app: FastAPI

    @property
    def service(self) -> SpaceService:
        return self.app.state.service.extra["service"]


@pytest.fixture
async def replica(nats_server: NatsServer, tmp_path: Path) -> AsyncIterator[Replica]:
    """A space-state replica (bootstrap as in production) on this test's nats-server; stops cleanly, deregistering."""
    settings = SpaceStateSettings(
        nats_url=nats_server.url,
        data_dir=tmp_path / "state",
        replica_id=f"state-{uuid.uuid4().hex[:8]}",
        log_format="text",
    )
    app = bootstrap_space_state(settings)
    async with AppServer(app, lifespan="on"):
        yield Replica(settings, app)


@pytest.fixture
def add_variant(replica: Replica) -> Callable[..., Awaitable[VariantRow]]:
    """Commits and publishes a completed variant of an asset, as a generation result will (a later issue).

    Socket clients cannot make variants yet; this is how the space-state tests stand in for generation.
    """

    async def add(space_id: str, asset_id: str, *, by: str = "usr_generator") -> VariantRow:
        service = replica.service
        async with service.spaces.use(space_id) as space:
            seq = space.store.last_seq + 1
        variant_id = uuid.uuid4().hex
        variant = VariantRow(
            id=variant_id,
            asset_id=asset_id,
            status=VariantStatus.COMPLETED,
            image_key=f"images/{space_id}/{variant_id}.png",
            media_key=f"images/{space_id}/{variant_id}.png",
            media_mime_type="image/png",
            recipe='{"prompt":"a hero","model":"gemini-3.1-flash-image"}',
            created_by=by,
            created_at=1_700_000_000_000 + seq,
        )
        event = VariantCreated(space_id=space_id, seq=seq, at=variant.created_at, variant=variant)
        await service.replay(space_id, [event])
        await service.publisher.publish(event)
        return variant

    return add


@pytest.fixture
async def gateway(replica: Replica, start_gateway, settings):
    """The gateway, started once the replica serves (so the first command finds an owner at once)."""
    return await start_gateway(settings)


def ws_url(http_url: str, space_id: str, **query: str) -> str:
    url = http_url.replace("http://", "ws://", 1) + f"/api/spaces/{space_id}/ws"
    if query:
        url += "?" + "&".join(f"{key}={value}" for key, value in query.items())
    return url


class Peer(SocketPeer):
    """A real WebSocket client of a space, with the protocol's requests in the words of the gateway tests."""

    def __init__(self, ws: ClientConnection) -> None:
        super().__init__(ws)
        self._cursor = 0

    async def wait_for(
        self, predicate: Callable[[dict[str, Any]], bool], *, timeout: float = 30, start: int = 0
    ) -> dict[str, Any]:
        return await super().wait_for(predicate, timeout=timeout, start=start)

    async def next(self, *, timeout: float = 30, presence: bool = False) -> dict[str, Any]:
        """The next frame not yet taken with `next` (presence frames skipped unless asked for)."""
        async with asyncio.timeout(timeout):
            while True:
                while self._cursor < len(self.frames):
                    frame = self.frames[self._cursor]
                    self._cursor += 1
                    if presence or frame["type"] != "presence:update":
                        return frame
                await self._next_frame()

    def skip_received(self) -> None:
        """Make `next` start after everything received so far."""
        self._cursor = len(self.frames)

    async def call(self, type_: str, *, answers: tuple[str, ...] = ("ack", "error"), **fields: Any) -> dict[str, Any]:
        """Send a message with a fresh requestId; the reply of a type in `answers` echoing it (raises on timeout)."""
        return await self.request(type_, answers, **fields)

    async def mutate(self, type_: str, **fields: Any) -> dict[str, Any]:
        """A mutation that must succeed: its ack."""
        reply = await self.call(type_, **fields)
        assert reply["type"] == "ack", reply
        return reply

    async def sync(self, since_seq: int | None = None) -> dict[str, Any]:
        """A full sync: the `sync:state` frame."""
        start = len(self.frames)
        await self.send({"type": "sync:request", "sinceSeq": since_seq})
        return await self.wait_for(lambda frame: frame["type"] == "sync:state", start=start)

    def events(self) -> list[dict[str, Any]]:
        return [frame for frame in self.frames if frame["type"] not in NOT_EVENTS]

    async def events_through(self, seq: int, *, timeout: float = 30) -> list[dict[str, Any]]:
        """Every event received once one with `seq` (or later) has arrived."""
        await self.wait_for(lambda frame: frame["type"] not in NOT_EVENTS and frame["seq"] >= seq, timeout=timeout)
        return self.events()

    def presence(self) -> list[dict[str, Any]] | None:
        """The latest presence this client was told of (from `presence:update` or `sync:state`)."""
        for frame in reversed(self.frames):
            if frame["type"] in ("presence:update", "sync:state"):
                return frame["presence"]
        return None


Connect = Callable[..., Awaitable[Peer]]


@pytest.fixture
async def connect(gateway) -> AsyncIterator[Connect]:
    """Opens real sockets to a gateway (this test's, unless `url` names another); closes them after the test."""
    peers: list[Peer] = []

    async def open_peer(space_id: str, token: str, *, url: str | None = None, sync: bool = True) -> Peer:
        ws = await websockets.connect(
            ws_url(url or gateway.url, space_id),
            additional_headers={"Authorization": f"Bearer {token}"},
            max_size=None,
        )
        peer = Peer(ws).start()
        peers.append(peer)
        if sync:
            await peer.sync()
        return peer

    yield open_peer
    for peer in peers:
        with contextlib.suppress(Exception):
            await peer.close()


@pytest.fixture
def socket_url(gateway) -> Callable[..., str]:
    """`ws://…/api/spaces/{spaceId}/ws` on this test's gateway, with optional query parameters."""
    return lambda space_id, **query: ws_url(gateway.url, space_id, **query)
