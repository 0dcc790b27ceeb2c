"""`SpaceRouter` against real replicas answering on `fx.state.<replica>.cmd` and holding real leases."""

from __future__ import annotations

import asyncio
import time
from typing import ClassVar, Literal

import pytest

from makefx_contracts import Message, Request, Subject
from makefx_contracts.errors import NotFound, Unavailable
from makefx_contracts.subjects import STATE_COMMANDS
from makefx_router import SpaceRouter, replica_subject


class Touched(Message):
    type: Literal["test.touched"] = "test.touched"
    replica: str
    epoch: int


class Touch(Request[Touched]):
    """A test command: the replica takes the space's lease (or refuses with `moved`) and says who it is."""

    type: Literal["test.touch"] = "test.touch"
    subject: ClassVar[Subject | None] = STATE_COMMANDS
    space_id: str


class ReplicaProcess:
    """A space-state stand-in: answers `Touch` by holding the lease, as the real service will."""

    def __init__(self, replica_id: str) -> None:
        self.replica_id = replica_id
        self.asked: list[str] = []
        self.replica = None

    async def on_touch(self, command: Touch) -> Touched:
        self.asked.append(command.space_id)
        if command.space_id == "missing":
            raise NotFound("no such space", details={"spaceId": command.space_id})
        lease = await self.replica.leases.acquire(command.space_id)
        return Touched(replica=self.replica_id, epoch=lease.epoch)

    async def start(self, cluster) -> ReplicaProcess:
        self.replica = await cluster.replica(
            self.replica_id, responders=[(self.on_touch, replica_subject(self.replica_id))]
        )
        return self


async def test_commands_reach_the_ring_owner_of_their_space(cluster) -> None:
    a, b = await ReplicaProcess("state-a").start(cluster), await ReplicaProcess("state-b").start(cluster)
    directory = await cluster.directory()
    await directory.wait_until(lambda ring: set(ring) == {"state-a", "state-b"}, timeout=30)
    router = SpaceRouter(await cluster.bus("gateway"), directory)

    for n in range(20):
        space = f"space-{n}"
        reply = await router.request(space, Touch(space_id=space))
        assert reply.replica == directory.owner_of(space)
    assert a.asked and b.asked


async def test_a_router_told_moved_reaches_the_lease_holder_transparently(cluster) -> None:
    a, b = await ReplicaProcess("state-a").start(cluster), await ReplicaProcess("state-b").start(cluster)
    space = cluster.space_owned_by("state-a", ["state-a", "state-b"])
    await b.replica.leases.acquire(space)  # b holds it although the ring now says a
    directory = await cluster.directory()
    await directory.wait_until(lambda ring: set(ring) == {"state-a", "state-b"}, timeout=30)
    router = SpaceRouter(await cluster.bus("gateway"), directory)

    reply = await router.request(space, Touch(space_id=space))
    assert reply.replica == "state-b"
    assert a.asked == [space]  # asked first, answered `moved`

    await router.request(space, Touch(space_id=space))
    assert a.asked == [space]  # the holder is remembered while the ring stays the same


async def test_a_router_retries_past_a_dead_replica_until_the_ring_drops_it(cluster) -> None:
    await ReplicaProcess("state-b").start(cluster)
    ghost = await cluster.replica("state-a")  # heartbeats, but nothing answers its commands
    space = cluster.space_owned_by("state-a", ["state-a", "state-b"])
    directory = await cluster.directory()
    await directory.wait_until(lambda ring: set(ring) == {"state-a", "state-b"}, timeout=30)
    router = SpaceRouter(await cluster.bus("gateway"), directory)

    await ghost.heartbeat.stop(deregister=False)  # it died: its entry lingers until the TTL
    # Within its deadline, or it would have raised Unavailable.
    reply = await router.request(space, Touch(space_id=space), deadline_seconds=4 * cluster.ttl)
    assert reply.replica == "state-b"
    assert set(directory.ring) == {"state-b"}


async def test_a_router_gives_up_with_unavailable_at_its_deadline(cluster) -> None:
    await cluster.replica("state-a")  # live, but nothing answers
    directory = await cluster.directory()
    await directory.wait_until(lambda ring: "state-a" in ring, timeout=30)
    router = SpaceRouter(await cluster.bus("gateway"), directory, deadline_seconds=2.0)

    started = time.monotonic()
    with pytest.raises(Unavailable) as gave_up:
        await router.request("space-1", Touch(space_id="space-1"))
    # It kept trying until its deadline, not a moment less (no upper bound: a loaded machine only delays it).
    assert time.monotonic() - started >= 2.0
    assert gave_up.value.details["spaceId"] == "space-1"
    assert gave_up.value.details["attempts"] > 1


async def test_a_router_waits_for_a_first_replica_to_come_up(cluster) -> None:
    directory = await cluster.directory()
    router = SpaceRouter(await cluster.bus("gateway"), directory)
    pending = asyncio.create_task(router.request("space-1", Touch(space_id="space-1"), deadline_seconds=10))

    await ReplicaProcess("state-a").start(cluster)
    reply = await asyncio.wait_for(pending, timeout=10)
    assert reply.replica == "state-a"


async def test_errors_other_than_moved_and_unavailable_reach_the_caller_at_once(cluster) -> None:
    a = await ReplicaProcess("state-a").start(cluster)
    directory = await cluster.directory()
    await directory.wait_until(lambda ring: "state-a" in ring, timeout=30)
    router = SpaceRouter(await cluster.bus("gateway"), directory)

    with pytest.raises(NotFound):
        await router.request("missing", Touch(space_id="missing"))
    assert a.asked == ["missing"]
