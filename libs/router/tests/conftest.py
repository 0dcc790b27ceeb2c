"""Fixtures for the router tests: replicas and routers as separate bus connections on a pristine nats-server."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

import pytest

from makefx_bus import Bus
from makefx_cli.nats_server import NatsServer
from makefx_router import LeaseTable, ReplicaDirectory, ReplicaHeartbeat, Ring
from makefx_settings import ServiceSettings

# Short, so crash detection is quick; long enough that a loaded CI machine still beats in time.
TTL = 1.5

Responder = tuple[Callable[[Any], Awaitable[Any]], str]


@dataclass
class Replica:
    bus: Bus
    heartbeat: ReplicaHeartbeat
    leases: LeaseTable

    @property
    def id(self) -> str:
        return self.heartbeat.replica_id


class Cluster:
    """Processes in miniature: each replica and each router gets its own bus (its own connection)."""

    ttl = TTL

    def __init__(self, server: NatsServer, stack: contextlib.AsyncExitStack) -> None:
        self.server = server
        self.url = server.url
        self._stack = stack

    @staticmethod
    def space_owned_by(replica_id: str, replicas: Sequence[str]) -> str:
        """The first `space-<n>` that the ring over `replicas` gives to `replica_id`."""
        ring = Ring(replicas)
        return next(f"space-{n}" for n in range(10_000) if ring.owner_of(f"space-{n}") == replica_id)

    async def bus(self, name: str, *, responders: Sequence[Responder] = ()) -> Bus:
        bus = Bus(ServiceSettings(nats_url=self.url, service_name=name, replica_heartbeat_ttl_seconds=TTL))
        for handler, subject in responders:
            bus.responder(handler, subject=subject)
        await bus.start()
        self._stack.push_async_callback(bus.stop)
        return bus

    async def replica(self, replica_id: str, *, responders: Sequence[Responder] = ()) -> Replica:
        bus = await self.bus(replica_id, responders=responders)
        heartbeat = ReplicaHeartbeat(bus, replica_id)
        await heartbeat.start()
        self._stack.push_async_callback(heartbeat.stop)
        return Replica(bus=bus, heartbeat=heartbeat, leases=LeaseTable(bus, heartbeat))

    async def restart(self, replica: Replica) -> Replica:
        """A new process with the same replica id (a new incarnation), on the old one's connection."""
        heartbeat = ReplicaHeartbeat(replica.bus, replica.id)
        await heartbeat.start()
        self._stack.push_async_callback(heartbeat.stop)
        return Replica(bus=replica.bus, heartbeat=heartbeat, leases=LeaseTable(replica.bus, heartbeat))

    async def directory(self, name: str = "router") -> ReplicaDirectory:
        directory = ReplicaDirectory(await self.bus(name))
        await directory.start()
        self._stack.push_async_callback(directory.stop)
        return directory


@pytest.fixture
async def cluster(fresh_nats_server: NatsServer) -> AsyncIterator[Cluster]:
    async with contextlib.AsyncExitStack() as stack:
        yield Cluster(fresh_nats_server, stack)
