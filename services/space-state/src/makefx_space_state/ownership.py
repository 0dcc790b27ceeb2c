"""Which spaces this replica serves: leases tied to the ring, takeover, and handoff (ARCHITECTURE §4).

A replica serves a space only while it holds the space's lease (docs/decisions/0007). It
takes a lease only for spaces the ring gives it; on taking one it catches up — the newest
snapshot in the archive when that is ahead of its own copy, then every later event from
`SPACE_EVENTS` — so no committed event is lost however the previous owner left. When the
ring moves a space elsewhere (a replica joined), it snapshots the space to the archive,
closes it and releases the lease, and the new owner picks it up from there.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable

from makefx_contracts.errors import Moved
from makefx_router import LeaseTable, ReplicaDirectory
from makefx_router.leases import Lease
from makefx_router.ring import Ring
from makefx_space_state.history import SpaceHistory
from makefx_space_state.snapshots import SnapshotArchive

log = logging.getLogger(__name__)


class LeasedOwnership:
    """The `Ownership` port backed by `libs/router`: one writer per space across replicas."""

    def __init__(
        self,
        replica_id: str,
        directory: ReplicaDirectory,
        leases: LeaseTable,
        archive: SnapshotArchive,
        history: SpaceHistory,
    ) -> None:
        self.replica_id = replica_id
        self.directory = directory
        self.leases = leases
        self.archive = archive
        self.history = history
        self.held: dict[str, Lease] = {}
        self._taking: dict[str, asyncio.Lock] = {}
        self._handoffs: set[asyncio.Task[None]] = set()
        self._unlisten: Callable[[], None] | None = None
        # Wired after construction (the service needs the spaces, which need this).
        self.service = None
        self.spaces = None

    def start(self) -> None:
        self._unlisten = self.directory.add_listener(self._on_ring_change)

    async def stop(self) -> None:
        if self._unlisten is not None:
            self._unlisten()
        if self._handoffs:
            await asyncio.gather(*self._handoffs, return_exceptions=True)

    # -- the Ownership port --------------------------------------------------------------

    async def ensure_owner(self, space_id: str) -> None:
        lease = self.held.get(space_id)
        if lease is not None:
            if self.leases.still_holds(lease):
                return
            try:
                self.held[space_id] = await self.leases.verify(lease)
                return
            except Moved:
                self.held.pop(space_id, None)
                self._spawn(self._close_lost(space_id))
                raise
        ring_owner = self.directory.owner_of(space_id)
        if ring_owner != self.replica_id:
            raise Moved(
                f"space {space_id} is served by {ring_owner}", details={"owner": ring_owner, "spaceId": space_id}
            )
        async with self._taking.setdefault(space_id, asyncio.Lock()):
            if space_id in self.held:
                return
            lease = await self.leases.acquire(space_id)  # raises Moved naming a live holder
            try:
                await self._catch_up(space_id)
            except BaseException:
                await self.leases.release(lease)
                raise
            self.held[space_id] = lease
            log.info("took space %s (epoch %d)", space_id, lease.epoch)

    async def released(self, space_id: str) -> None:
        lease = self.held.pop(space_id, None)
        if lease is not None:
            with contextlib.suppress(Exception):
                await self.leases.release(lease)

    # -- takeover and handoff ------------------------------------------------------------

    async def _catch_up(self, space_id: str) -> None:
        seq = await self.service.local_seq(space_id)
        snapshot = await self.archive.newest(space_id, newer_than=seq)
        if snapshot is not None:
            seq = await self.service.restore(space_id, snapshot)
        missed = await self.history.events_after(space_id, seq)
        if missed:
            seq = await self.service.replay(space_id, missed)
        log.info("space %s caught up to seq %d (%d events replayed)", space_id, seq, len(missed))

    def _on_ring_change(self, ring: Ring) -> None:
        for space_id in list(self.held):
            if ring and ring.owner_of(space_id) != self.replica_id:
                self._spawn(self.hand_off(space_id))

    async def hand_off(self, space_id: str) -> None:
        """Snapshot the space to the archive, close it and release its lease for the ring's new owner."""
        if space_id not in self.held:
            return
        try:
            snapshot = await self.service.snapshot(space_id)
            await self.archive.put(snapshot)
        except Exception:
            log.exception("snapshot of %s before handoff failed; the new owner replays the stream", space_id)
        await self.spaces.close(space_id)

    async def hand_off_all(self) -> None:
        """At shutdown: every space goes to the archive, so the next owner starts from a snapshot."""
        for space_id in list(self.held):
            await self.hand_off(space_id)

    async def _close_lost(self, space_id: str) -> None:
        log.warning("lost the lease of %s; closing it here", space_id)
        await self.spaces.close(space_id)

    def _spawn(self, work) -> None:
        task = asyncio.create_task(work)
        self._handoffs.add(task)
        task.add_done_callback(self._handoffs.discard)
