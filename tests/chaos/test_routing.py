"""Issue 4's routing guarantees, proved with a real nats-server and space-state replicas as real OS processes.

- 300 spaces spread over three replicas, each holding about a third, as the ring says;
- SIGKILL one replica: every space it held is served by another within 5 s (heartbeat TTL
  3 s, the production default), with every acknowledged write still there, gap-free;
- a fourth replica joins: only about a quarter of the spaces move (to it, through a
  snapshot), and the others are never opened anywhere else;
- two replicas forced to disagree about the ring still give a space exactly one writer:
  the lease holder applies every write, the other answers `moved` naming it.

The first three drive `python -m makefx_space_state` processes (see cluster.py). The last
runs two replicas in the test's own process so one of them can be given a wrong ring: its
subject is the lease, not the ring, so overriding `ReplicaDirectory.owner_of` is its seam.
Measured numbers are printed (run with `-s`) and recorded as test properties.
"""

from __future__ import annotations

import asyncio
import contextlib
import statistics
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from fastapi import FastAPI

from makefx_cli.nats_server import NatsServer
from makefx_contracts.errors import Moved
from makefx_contracts.space import Applied, CreateAsset, GetEventsSince
from makefx_contracts.subjects import STATE_COMMANDS
from makefx_router import Ring
from makefx_space_state.app import bootstrap
from makefx_space_state.history import SpaceHistory
from makefx_space_state.settings import SpaceStateSettings
from makefx_space_state.store.sqlite import space_path
from tests.chaos.cluster import ACTOR, HEARTBEAT_TTL_SECONDS, Cluster

pytestmark = pytest.mark.slow

SPACES = 300
WRITES_PER_SPACE = 3  # one CreateAsset, then renames
FAILOVER_BOUND_SECONDS = 5.0


async def _spaces_with_writes(cluster: Cluster, writes: int = WRITES_PER_SPACE) -> list[str]:
    space_ids = await cluster.create_spaces(SPACES)
    for _ in range(writes - 1):
        await cluster.each(space_ids, cluster.rename)
    return space_ids


async def _assert_every_acknowledged_write_is_present(cluster: Cluster, space_ids: list[str]) -> None:
    """Each space's log is seq 1..N with N the writes acknowledged, each at its acked seq; the state agrees."""

    async def check(space_id: str) -> None:
        acked = cluster.acked[space_id]
        since = await cluster.router.request(space_id, GetEventsSince(space_id=space_id, since_seq=0))
        seq, assets = await cluster.read_state(space_id)
        assert since.complete
        assert [event.seq for event in since.events] == list(range(1, len(acked) + 1)), space_id
        assert {event.request_id: event.seq for event in since.events} == {
            write.request_id: write.seq for write in acked
        }, space_id
        assert seq == len(acked)
        assert [(asset.id, asset.name) for asset in assets] == [(cluster.assets[space_id], acked[-1].name)]

    await cluster.each(space_ids, check)


def _percentile(sorted_values: list[float], fraction: float) -> float:
    return sorted_values[min(len(sorted_values) - 1, int(fraction * len(sorted_values)))]


async def test_three_replicas_share_300_spaces(cluster: Cluster, record_property) -> None:
    await cluster.start_replicas(3)

    space_ids = await cluster.create_spaces(SPACES)

    holders = await cluster.holders()
    ring = Ring(cluster.live_ids)
    assert {space_id: holders.get(space_id) for space_id in space_ids} == ring.owners_of(space_ids)
    counts = {replica_id: sum(holder == replica_id for holder in holders.values()) for replica_id in ring}
    print(f"\nspaces per replica: {counts}")
    record_property("spaces_per_replica", counts)
    assert all(60 <= count <= 140 for count in counts.values()), counts


async def test_a_killed_replica_s_spaces_are_served_elsewhere_within_5_s_with_every_acknowledged_write(
    cluster: Cluster, record_property
) -> None:
    await cluster.start_replicas(3)
    space_ids = await _spaces_with_writes(cluster)
    leases_before = await cluster.leases()
    counts = {replica_id: 0 for replica_id in cluster.live_ids}
    for record in leases_before.values():
        counts[record.replica_id] += 1
    victim = max(counts, key=lambda replica_id: counts[replica_id])
    orphans = [space_id for space_id, record in leases_before.items() if record.replica_id == victim]
    served_after: dict[str, float] = {}

    async def write_to(space_id: str) -> None:
        await cluster.rename(space_id, deadline_seconds=3 * FAILOVER_BOUND_SECONDS)
        served_after[space_id] = time.monotonic() - killed_at

    dropped_after: list[float] = []
    unlisten = cluster.directory.add_listener(
        lambda ring: victim not in ring and dropped_after.append(time.monotonic() - killed_at)
    )
    killed_at = time.monotonic()
    cluster.replicas[victim].kill()
    # Every orphan at once: a gateway does not queue one space behind another.
    await cluster.each(orphans, write_to, concurrency=len(orphans))

    unlisten()
    times = sorted(served_after.values())
    numbers = {
        "orphans": len(orphans),
        "left_client_ring": round(dropped_after[0], 3) if dropped_after else None,
        "p50": round(statistics.median(times), 3),
        "p99": round(_percentile(times, 0.99), 3),
        "max": round(times[-1], 3),
    }
    print(f"\nSIGKILL of {victim}: time to serve each of its spaces elsewhere (s): {numbers}")
    record_property("time_to_serve_after_kill", numbers)
    assert times[-1] < FAILOVER_BOUND_SECONDS, numbers

    leases_after = await cluster.leases()
    survivors = Ring(cluster.live_ids)
    for space_id in space_ids:
        before, after = leases_before[space_id], leases_after[space_id]
        if space_id in orphans:
            assert after.replica_id == survivors.owner_of(space_id) and after.epoch == before.epoch + 1
        else:  # a survivor's spaces stay where they were, under the same lease
            assert (after.incarnation, after.epoch) == (before.incarnation, before.epoch), space_id
    await _assert_every_acknowledged_write_is_present(cluster, space_ids)


async def test_adding_a_fourth_replica_moves_about_a_quarter_of_the_spaces(cluster: Cluster, record_property) -> None:
    await cluster.start_replicas(3)
    space_ids = await _spaces_with_writes(cluster, writes=2)
    leases_before = await cluster.leases()
    files_before = {
        replica_id: {space_id for space_id in space_ids if space_path(replica.data_dir, space_id).exists()}
        for replica_id, replica in cluster.replicas.items()
    }

    (newcomer,) = await cluster.start_replicas(1)
    joined_at = time.monotonic()
    ring = Ring(cluster.live_ids)
    moving = {space_id for space_id in space_ids if ring.owner_of(space_id) == newcomer.replica_id}
    # The old owners hand the moving spaces off (snapshot, close, release) once they see the newcomer.
    await cluster.wait_for_leases(
        lambda leases: not any(leases[space_id].is_held for space_id in moving), timeout=10 * HEARTBEAT_TTL_SECONDS
    )
    handed_off_after = time.monotonic() - joined_at
    await cluster.each(space_ids, cluster.rename)

    leases_after = await cluster.leases()
    assert {space_id: leases_after[space_id].replica_id for space_id in space_ids} == ring.owners_of(space_ids)
    moved = {
        space_id for space_id in space_ids if leases_after[space_id].replica_id != leases_before[space_id].replica_id
    }
    fraction = len(moved) / SPACES
    print(
        f"\na fourth replica joined: {len(moved)}/{SPACES} spaces moved ({fraction:.1%}); its old owners had "
        f"handed them all off {handed_off_after:.2f}s after it was ready"
    )
    record_property("fraction_moved_on_join", fraction)
    assert 0.15 <= fraction <= 0.35
    assert moved == moving
    for space_id in space_ids:
        before, after = leases_before[space_id], leases_after[space_id]
        if space_id in moved:  # moved exactly once, to the newcomer, from the snapshot its old owner archived
            assert after.epoch == before.epoch + 1
            assert any((cluster.objects_dir / "snapshots" / space_id).iterdir()), space_id
        else:  # never taken by anyone else: same holder process, same lease epoch
            assert (after.incarnation, after.epoch) == (before.incarnation, before.epoch), space_id
    # Only the newcomer's disk gained spaces, and only the ones that moved to it.
    for replica_id, replica in cluster.replicas.items():
        files = {space_id for space_id in space_ids if space_path(replica.data_dir, space_id).exists()}
        assert files == (moved if replica_id == newcomer.replica_id else files_before[replica_id]), replica_id
    await _assert_every_acknowledged_write_is_present(cluster, space_ids)


# -- two replicas that disagree about the ring ------------------------------------------------------


@contextlib.asynccontextmanager
async def _in_process_replica(nats: NatsServer, root: Path, replica_id: str) -> AsyncIterator[FastAPI]:
    settings = SpaceStateSettings(
        nats_url=nats.url,
        data_dir=root / replica_id,
        replica_id=replica_id,
        storage_root=root / "objects",
        replica_heartbeat_ttl_seconds=HEARTBEAT_TTL_SECONDS,
        service_name=replica_id,
    )
    app = bootstrap(settings)
    async with app.router.lifespan_context(app):
        await app.state.service.bus.nats.flush(timeout=30)  # its responder is known to the server
        yield app


async def test_two_replicas_that_disagree_about_the_ring_still_have_one_writer(
    tmp_path: Path, cluster: Cluster, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with (
        _in_process_replica(cluster.nats, tmp_path, "state-a") as app_a,
        _in_process_replica(cluster.nats, tmp_path, "state-b") as app_b,
    ):
        both = ("state-a", "state-b")
        wrong, right = (app.state.service.extra["spaces"].ownership.directory for app in (app_a, app_b))
        for directory in (wrong, right, cluster.directory):
            await directory.wait_until(lambda ring: set(ring) == set(both), timeout=10)
        # The true ring gives these spaces to state-b; state-a is made to believe it owns every space.
        ring = Ring(both)
        space_ids = [
            space_id for space_id in (uuid.uuid4().hex for _ in range(60)) if ring.owner_of(space_id) == "state-b"
        ]
        a_first, b_first, raced = space_ids[0:4], space_ids[4:8], space_ids[8:12]
        space_ids = a_first + b_first + raced
        monkeypatch.setattr(wrong, "owner_of", lambda space_id: "state-a")
        replies: dict[str, list[tuple[str, Applied | Moved]]] = {space_id: [] for space_id in space_ids}

        async def send(space_id: str, replica_id: str) -> None:
            command = CreateAsset(
                space_id=space_id,
                request_id=f"{replica_id}-{uuid.uuid4().hex}",
                actor=ACTOR,
                name=f"asset via {replica_id}",
                asset_type="item",
            )
            try:
                reply: Applied | Moved = await cluster.bus.request(
                    command, subject=STATE_COMMANDS.fill(replica=replica_id)
                )
            except Moved as moved:
                reply = moved
            replies[space_id].append((replica_id, reply))

        # Some spaces are first written through the replica with the wrong ring, some through the right
        # one; the rest are raced. Then both replicas get every space's commands, interleaved, all at once.
        await asyncio.gather(*(send(space_id, "state-a") for space_id in a_first))
        await asyncio.gather(*(send(space_id, "state-b") for space_id in b_first))
        await asyncio.gather(
            *(send(space_id, replica_id) for _ in range(10) for space_id in space_ids for replica_id in both)
        )
        # A gateway with the true ring is sent on to whichever replica holds the lease.
        routed = await cluster.each(space_ids, cluster.create_asset)

        history = SpaceHistory(cluster.bus)
        leases = await cluster.leases()
        for space_id in space_ids:
            holder = leases[space_id].replica_id
            (other,) = set(both) - {holder}
            if space_id in a_first or space_id in b_first:
                assert holder == ("state-a" if space_id in a_first else "state-b")
            sent = replies[space_id]
            # Every ack came from the lease holder, and everything sent to the other was refused naming it.
            assert all(isinstance(reply, Applied) for replica_id, reply in sent if replica_id == holder), sent
            assert all(
                isinstance(reply, Moved) and reply.owner == holder for replica_id, reply in sent if replica_id == other
            ), sent
            # One gap-free history, in the stream as in the holder's log, made of exactly the acked writes.
            acked_seqs = sorted(
                event.seq for replica_id, reply in sent if isinstance(reply, Applied) for event in reply.events
            )
            acked_seqs += [event.seq for event in routed[space_ids.index(space_id)].events]
            count = len(acked_seqs)
            assert sorted(acked_seqs) == list(range(1, count + 1))
            streamed = await history.events_after(space_id, 0)
            assert [event.seq for event in streamed] == list(range(1, count + 1))
            logged = await cluster.bus.request(
                GetEventsSince(space_id=space_id, since_seq=0), subject=STATE_COMMANDS.fill(replica=holder)
            )
            assert logged.events == streamed
            # The refused replica never opened the space.
            assert not space_path(tmp_path / other, space_id).exists()
        raced_writers = sorted(leases[space_id].replica_id for space_id in raced)
        print(f"\nwriters of the raced spaces: {raced_writers}")
