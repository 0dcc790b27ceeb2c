"""Heartbeats and the replica directory on a real nats-server, including what TTL expiry looks like."""

from __future__ import annotations

import asyncio
import time

import nats.errors
import nats.js.errors
import pytest

from makefx_contracts import subjects
from makefx_router import ReplicaDirectory, ReplicaRecord, Ring
from makefx_router._kv import read


async def test_two_directories_converge_on_the_same_live_set(cluster) -> None:
    first, second = await cluster.directory("router-a"), await cluster.directory("router-b")
    ids = {"state-0", "state-1", "state-2"}
    for replica_id in sorted(ids):
        await cluster.replica(replica_id)

    for directory in (first, second):
        await directory.wait_until(lambda ring: set(ring) == ids, timeout=30)
    spaces = [f"space-{n}" for n in range(500)]
    assert first.ring.owners_of(spaces) == second.ring.owners_of(spaces) == Ring(ids).owners_of(spaces)


async def test_a_directory_started_late_sees_replicas_already_running(cluster) -> None:
    await cluster.replica("state-0")
    directory = await cluster.directory()
    assert set(directory.ring) == {"state-0"}
    assert directory.replicas["state-0"].replica_id == "state-0"


async def test_a_replica_that_stops_cleanly_leaves_at_once(cluster) -> None:
    directory = await cluster.directory()
    replica = await cluster.replica("state-0")
    await directory.wait_until(lambda ring: "state-0" in ring, timeout=30)

    await replica.heartbeat.stop()
    # Well under a TTL: the delete is pushed to watchers, nothing waits for expiry.
    await directory.wait_until(lambda ring: "state-0" not in ring, timeout=cluster.ttl / 3)
    assert not replica.heartbeat.is_live()


async def test_a_replica_that_stops_heartbeating_leaves_within_about_a_ttl(cluster) -> None:
    directory = await cluster.directory()
    survivor = await cluster.replica("state-0")
    crashed = await cluster.replica("state-1")
    await directory.wait_until(lambda ring: set(ring) == {"state-0", "state-1"}, timeout=30)

    started = time.monotonic()
    await crashed.heartbeat.stop(deregister=False)  # as SIGKILL: the entry stays until it expires
    await directory.wait_until(lambda ring: set(ring) == {"state-0"}, timeout=2 * cluster.ttl)
    # Not before the server let the entry go: the directory did not guess from its own clock alone.
    assert time.monotonic() - started >= cluster.ttl * 0.5
    assert survivor.heartbeat.is_live()


async def test_a_crashed_replica_leaves_the_ring_right_after_the_server_expires_its_entry(cluster) -> None:
    """The sweep asks when the entry is due to expire, then every TTL/20, not on a fixed TTL/4 grid."""
    directory = await cluster.directory()
    await cluster.replica("state-0")
    crashed = await cluster.replica("state-1")
    await directory.wait_until(lambda ring: set(ring) == {"state-0", "state-1"}, timeout=30)
    kv = await crashed.bus.js.key_value(subjects.KV_STATE_REPLICAS)

    async def expired_at() -> float:
        # Expiry is announced to no one (see below), so the test asks the server as often as it can.
        while True:
            if await read(kv, "state-1") is None:
                return time.monotonic()
            await asyncio.sleep(0.005)

    await crashed.heartbeat.stop(deregister=False)
    expiry = asyncio.create_task(expired_at())
    await directory.wait_until(lambda ring: set(ring) == {"state-0"}, timeout=2 * cluster.ttl)
    dropped_at = time.monotonic()
    assert await read(kv, "state-1") is None  # never before the server let the entry go

    expired = await expiry
    assert dropped_at - expired < cluster.ttl / 20 + 0.1, dropped_at - expired


async def test_ttl_expiry_is_silent_to_watchers_on_this_nats_server(cluster) -> None:
    """nats-server 2.15 with the bucket as provisioned: expiry sends no delete or purge marker.

    This is why `ReplicaDirectory` sweeps; if it starts failing, the server began announcing
    expiry (e.g. the bucket gained `subject_delete_marker_ttl`) and the sweep is a backstop only.
    """
    crashed = await cluster.replica("state-0")
    directory = await cluster.directory()
    assert "state-0" in directory.ring
    kv = await crashed.bus.js.key_value(subjects.KV_STATE_REPLICAS)
    watcher = await kv.watchall()
    try:
        while await watcher.updates(timeout=1) is not None:
            pass  # the replay of current entries
        await crashed.heartbeat.stop(deregister=False)
        await directory.wait_until(lambda ring: "state-0" not in ring, timeout=2 * cluster.ttl)

        operations = []
        with pytest.raises(nats.errors.TimeoutError):
            while True:
                entry = await watcher.updates(timeout=0.2)
                operations.append(entry.operation)
        assert "DEL" not in operations
        assert "PURGE" not in operations
        with pytest.raises(nats.js.errors.KeyNotFoundError):
            await kv.get("state-0")
    finally:
        await watcher.stop()


async def test_heartbeat_entries_are_camel_case_replica_records(cluster) -> None:
    replica = await cluster.replica("state-0")
    kv = await replica.bus.js.key_value(subjects.KV_STATE_REPLICAS)
    entry = await kv.get("state-0")
    assert b'"replicaId":"state-0"' in entry.value
    record = ReplicaRecord.model_validate_json(entry.value)
    assert record.incarnation == replica.heartbeat.incarnation
    assert record.heartbeat_at >= record.started_at


async def test_listeners_hear_each_change_of_the_live_set(cluster) -> None:
    directory = await cluster.directory()
    seen: list[tuple[str, ...]] = []
    unsubscribe = directory.add_listener(lambda ring: seen.append(ring.replicas))

    replica = await cluster.replica("state-0")
    await directory.wait_until(lambda ring: "state-0" in ring, timeout=30)
    await replica.heartbeat.stop()
    await directory.wait_until(lambda ring: len(ring) == 0, timeout=30)
    unsubscribe()
    await cluster.replica("state-1")
    await directory.wait_until(lambda ring: "state-1" in ring, timeout=30)

    assert seen == [("state-0",), ()]


async def test_refresh_rebuilds_the_view_from_the_server(cluster) -> None:
    directory = await cluster.directory()
    await cluster.replica("state-0")
    await directory.refresh()
    assert set(directory.ring) == {"state-0"}
    version = directory.version
    await directory.refresh()
    assert directory.version == version  # same live set, no change reported


async def test_heartbeat_term_increases_after_a_lapse_and_not_otherwise(cluster) -> None:
    replica = await cluster.replica("state-0")
    directory = await cluster.directory()
    assert "state-0" in directory.ring
    assert replica.heartbeat.term == 1
    assert replica.heartbeat.is_live(1)

    await replica.heartbeat.stop(deregister=False)  # as SIGSTOP: the process is paused, not gone
    await directory.wait_until(lambda ring: "state-0" not in ring, timeout=2 * cluster.ttl)
    assert not replica.heartbeat.is_live()

    await replica.heartbeat.start()  # SIGCONT
    assert replica.heartbeat.term == 2
    assert replica.heartbeat.is_live()
    assert not replica.heartbeat.is_live(1)


async def test_a_stopped_directory_stops_following(cluster) -> None:
    directory = ReplicaDirectory(await cluster.bus("router"))
    await directory.start()
    await directory.stop()
    await cluster.replica("state-0")
    assert not await directory.wait_for_change(timeout=0.3)


async def test_heartbeats_and_directories_recover_when_nats_restarts(cluster) -> None:
    """The memory bucket is gone after a restart: heartbeats declare it again, directories watch it anew."""
    first = await cluster.replica("state-0")
    directory = await cluster.directory()
    assert "state-0" in directory.ring

    await asyncio.to_thread(cluster.server.stop)
    await asyncio.to_thread(cluster.server.start)
    await cluster.replica("state-1")  # a replica started after the restart
    after = await cluster.directory("router-after")  # sees only what is in the new bucket

    await after.wait_until(lambda ring: set(ring) == {"state-0", "state-1"}, timeout=10 * cluster.ttl)
    await directory.wait_until(lambda ring: set(ring) == {"state-0", "state-1"}, timeout=10 * cluster.ttl)
    await first.heartbeat.stop()  # a delete in the new bucket: the old directory hears of it at once
    await directory.wait_until(lambda ring: set(ring) == {"state-1"}, timeout=cluster.ttl / 3)


async def test_a_stopping_replica_leaves_its_successors_entry_alone(cluster) -> None:
    before = await cluster.replica("state-0")
    after = await cluster.restart(before)  # same id, new incarnation, already beating
    await before.heartbeat.stop()

    kv = await after.bus.js.key_value(subjects.KV_STATE_REPLICAS)
    record = ReplicaRecord.model_validate_json((await kv.get("state-0")).value)
    assert record.incarnation == after.heartbeat.incarnation
