"""Chaos fixtures: a fresh nats-server per test, a routing client on it, and a `Cluster` of replica processes.

A failed test prints the tail of every replica's log.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from makefx_bus import Bus
from makefx_cli.nats_server import NatsServer
from makefx_router import ReplicaDirectory, SpaceRouter
from makefx_settings import ServiceSettings
from tests.chaos.cluster import HEARTBEAT_TTL_SECONDS, Cluster

_FAILED = pytest.StashKey[bool]()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]):
    report = yield
    if report.when == "call":
        item.stash[_FAILED] = report.failed
    return report


@pytest.fixture
async def client_bus(fresh_nats_server: NatsServer) -> AsyncIterator[Bus]:
    bus = Bus(
        ServiceSettings(
            nats_url=fresh_nats_server.url,
            service_name="chaos-client",
            replica_heartbeat_ttl_seconds=HEARTBEAT_TTL_SECONDS,
        )
    )
    await bus.start()
    yield bus
    await bus.stop()


@pytest.fixture
async def cluster(
    request: pytest.FixtureRequest, tmp_path: Path, fresh_nats_server: NatsServer, client_bus: Bus
) -> AsyncIterator[Cluster]:
    """No replica yet; `await cluster.start_replicas(n)` starts them. All are SIGKILLed at teardown."""
    directory = ReplicaDirectory(client_bus)
    await directory.start()
    cluster = Cluster(
        root=tmp_path,
        nats=fresh_nats_server,
        bus=client_bus,
        directory=directory,
        router=SpaceRouter(client_bus, directory, deadline_seconds=15.0),
    )
    try:
        yield cluster
    finally:
        if request.node.stash.get(_FAILED, False):
            print(f"\nreplica logs:\n{cluster.logs()}")
        cluster.shutdown()
        await directory.stop()
