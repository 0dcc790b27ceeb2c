"""Space leases on a real nats-server: one holder at a time, takeover after death, fencing of a stale holder."""

from __future__ import annotations

import asyncio
from dataclasses import replace

import pytest

from makefx_contracts import subjects
from makefx_contracts.errors import Moved, Unavailable, ValidationFailed
from makefx_router import Lease, LeaseRecord, LeaseTable, ReplicaHeartbeat


async def test_racing_replicas_one_wins_and_the_other_is_moved_to_the_winner(cluster) -> None:
    a, b = await cluster.replica("state-a"), await cluster.replica("state-b")
    for attempt in range(5):
        space = f"space-race-{attempt}"
        outcomes = await asyncio.gather(a.leases.acquire(space), b.leases.acquire(space), return_exceptions=True)

        won = [outcome for outcome in outcomes if isinstance(outcome, Lease)]
        refused = [outcome for outcome in outcomes if isinstance(outcome, Moved)]
        assert len(won) == 1 and len(refused) == 1, outcomes
        assert refused[0].owner == won[0].replica_id
        assert refused[0].details["spaceId"] == space
        assert won[0].epoch == 1
        assert await a.leases.holder(space) == replace(won[0], term=0)


async def test_the_holder_acquiring_again_gets_the_same_lease(cluster) -> None:
    a = await cluster.replica("state-a")
    first = await a.leases.acquire("space-1")
    again = await a.leases.acquire("space-1")
    assert (again.epoch, again.revision) == (first.epoch, first.revision)


async def test_a_lease_of_a_live_holder_is_refused_with_moved(cluster) -> None:
    a, b = await cluster.replica("state-a"), await cluster.replica("state-b")
    await a.leases.acquire("space-1")
    with pytest.raises(Moved) as refused:
        await b.leases.acquire("space-1")
    assert refused.value.owner == "state-a"


async def test_a_lease_whose_holder_died_is_taken_over_with_a_higher_epoch(cluster) -> None:
    a, b = await cluster.replica("state-a"), await cluster.replica("state-b")
    directory = await cluster.directory()  # started after them: its first view already has both
    assert set(directory.ring) == {"state-a", "state-b"}
    lease_a = await a.leases.acquire("space-1")

    await a.heartbeat.stop(deregister=False)  # SIGKILL
    with pytest.raises(Moved):
        await b.leases.acquire("space-1")  # until its heartbeat expires, the holder counts as live
    await directory.wait_until(lambda ring: "state-a" not in ring, timeout=2 * cluster.ttl)

    lease_b = await b.leases.acquire("space-1")
    assert lease_b.epoch == lease_a.epoch + 1
    assert (await b.leases.holder("space-1")).replica_id == "state-b"


async def test_a_paused_holder_learns_it_lost_its_lease_before_writing(cluster) -> None:
    a, b = await cluster.replica("state-a"), await cluster.replica("state-b")
    directory = await cluster.directory()  # started after them: its first view already has both
    assert set(directory.ring) == {"state-a", "state-b"}
    lease_a = await a.leases.acquire("space-1")
    assert a.leases.still_holds(lease_a)

    await a.heartbeat.stop(deregister=False)  # SIGSTOP
    await directory.wait_until(lambda ring: "state-a" not in ring, timeout=2 * cluster.ttl)
    await b.leases.acquire("space-1")
    await a.heartbeat.start()  # SIGCONT: a is live again, but in a new term

    assert not a.leases.still_holds(lease_a)
    with pytest.raises(Moved) as lost:
        await a.leases.verify(lease_a)
    assert lost.value.owner == "state-b"


async def test_a_lease_survives_a_lapse_nobody_used_and_verify_renews_its_term(cluster) -> None:
    a = await cluster.replica("state-a")
    directory = await cluster.directory()
    assert "state-a" in directory.ring
    lease = await a.leases.acquire("space-1")

    await a.heartbeat.stop(deregister=False)
    await directory.wait_until(lambda ring: "state-a" not in ring, timeout=2 * cluster.ttl)
    with pytest.raises(Unavailable):
        await a.leases.verify(lease)  # not live: it cannot vouch for anything
    await a.heartbeat.start()

    assert not a.leases.still_holds(lease)
    confirmed = await a.leases.verify(lease)
    assert confirmed.term == a.heartbeat.term
    assert a.leases.still_holds(confirmed)


async def test_a_restarted_replica_takes_over_its_predecessors_leases_at_once(cluster) -> None:
    before = await cluster.replica("state-a")
    old = await before.leases.acquire("space-1")
    await before.heartbeat.stop(deregister=False)  # crash, then the pod comes back with the same id

    after = await cluster.restart(before)
    new = await after.leases.acquire("space-1")
    assert new.epoch == old.epoch + 1
    assert new.incarnation != old.incarnation


async def test_release_lets_another_replica_acquire_and_the_epoch_keeps_growing(cluster) -> None:
    a, b = await cluster.replica("state-a"), await cluster.replica("state-b")
    first = await a.leases.acquire("space-1")
    assert await a.leases.release(first)
    assert await a.leases.holder("space-1") is None

    second = await b.leases.acquire("space-1")
    assert second.epoch == first.epoch + 1
    assert not await a.leases.release(first)  # no longer ours: nothing happens
    assert (await a.leases.holder("space-1")).replica_id == "state-b"

    assert await b.leases.release(second)
    third = await a.leases.acquire("space-1")
    assert third.epoch == second.epoch + 1


async def test_a_released_lease_is_recorded_with_its_epoch(cluster) -> None:
    a = await cluster.replica("state-a")
    lease = await a.leases.acquire("space-1")
    await a.leases.release(lease)
    kv = await a.bus.js.key_value(subjects.KV_SPACE_OWNERS)
    record = LeaseRecord.model_validate_json((await kv.get("space-1")).value)
    assert (record.replica_id, record.epoch, record.released_at is not None) == (None, lease.epoch, True)


async def test_verify_confirms_an_intact_lease(cluster) -> None:
    a = await cluster.replica("state-a")
    lease = await a.leases.acquire("space-1")
    assert await a.leases.verify(lease) == lease


async def test_a_replica_that_is_not_heartbeating_cannot_acquire(cluster) -> None:
    bus = await cluster.bus("state-a")
    leases = LeaseTable(bus, ReplicaHeartbeat(bus, "state-a"))
    with pytest.raises(Unavailable):
        await leases.acquire("space-1")


@pytest.mark.parametrize("space_id", ["", "a.b", "a*", "spaces/1", "x y"])
async def test_a_space_id_that_cannot_be_a_key_is_refused(cluster, space_id: str) -> None:
    a = await cluster.replica("state-a")
    with pytest.raises(ValidationFailed):
        await a.leases.acquire(space_id)
