"""Space leases in KV `fx_space_owners`: at most one replica holds a space, changed only by compare-and-set.

Design (docs/decisions: "Space leases follow replica heartbeats"):
- A lease names its holder (replica id and incarnation) and an `epoch` that grows by one
  each time the space changes hands. The KV revision of the entry changes on every write.
- There is no per-space renewal. A lease stays valid exactly as long as its holder's
  heartbeat entry (same incarnation) exists in `fx_state_replicas`; anyone may take it over
  once that entry is gone. So failover after a crash takes at most one heartbeat TTL, and
  an open space costs no traffic.
- Whoever takes over reads the holder's heartbeat from the server (never from a cached
  view) before the compare-and-set, so a replica the taker has not yet heard of is safe.
- Fencing: a holder paused longer than a TTL (GC, SIGSTOP, partition) may have lost its
  leases. `still_holds(lease)` answers locally and for free: true while this replica's
  heartbeat has had no lapse since the lease was confirmed. When it is false, `verify()`
  re-reads the entry and either confirms the lease (same revision) or raises `Moved`. The
  space-state service must call one of them before it commits a write, and `verify()`
  when `still_holds` is false, so a stale owner never writes.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, replace
from datetime import UTC, datetime

from nats.js.errors import KeyWrongLastSequenceError
from nats.js.kv import KeyValue
from pydantic import ValidationError, model_validator

from makefx_bus import Bus
from makefx_contracts import Model, subjects
from makefx_contracts.errors import Conflict, Moved, Unavailable, ValidationFailed
from makefx_router._kv import read, unavailable_on_nats_errors
from makefx_router.replicas import ReplicaHeartbeat, ReplicaRecord

log = logging.getLogger(__name__)

_SPACE_ID = re.compile(r"^[A-Za-z0-9_-]+$")
# Losing this many compare-and-set races in a row means something is badly wrong.
_MAX_RACES = 16


class LeaseRecord(Model):
    """The value under a space id in `fx_space_owners`; a released lease keeps its epoch."""

    replica_id: str | None
    incarnation: str | None
    epoch: int
    acquired_at: datetime | None = None
    released_at: datetime | None = None

    @model_validator(mode="after")
    def _held_means_named(self) -> LeaseRecord:
        if (self.replica_id is None) != (self.incarnation is None):
            raise ValueError("a lease names both its replica and incarnation, or neither")
        return self

    @property
    def is_held(self) -> bool:
        return self.replica_id is not None


@dataclass(frozen=True)
class Lease:
    """A held lease as its holder knows it.

    `revision` is the KV revision of the entry when it was written; any later write
    (takeover, release) changes it, so an unchanged revision proves the lease is intact.
    `term` is the holder's heartbeat term under which the lease was last confirmed
    (0 for a lease read by someone other than its holder).
    """

    space_id: str
    replica_id: str
    incarnation: str
    epoch: int
    revision: int
    acquired_at: datetime
    term: int = 0


class LeaseTable:
    """Acquire, check and release the leases of one replica (the one `heartbeat` keeps alive)."""

    def __init__(self, bus: Bus, heartbeat: ReplicaHeartbeat) -> None:
        self._bus = bus
        self._heartbeat = heartbeat
        self._owners: KeyValue | None = None
        self._replicas: KeyValue | None = None

    @property
    def replica_id(self) -> str:
        return self._heartbeat.replica_id

    async def acquire(self, space_id: str) -> Lease:
        """Hold the space's lease, or raise `Moved` naming the live replica that holds it.

        Creates the lease if there is none, takes over a released one or one whose holder
        is no longer live (epoch + 1), and returns the existing lease if this replica
        already holds it. Raises `Unavailable` if this replica is not heartbeating.
        """
        _check_space_id(space_id)
        owners = await self._owners_kv()
        me = self._heartbeat
        for _ in range(_MAX_RACES):
            term = self._require_live()
            entry = await read(owners, space_id)
            current = _decode(space_id, entry)
            if current is not None and current.is_held:
                if current.incarnation == me.incarnation:
                    assert entry is not None and entry.revision is not None and current.acquired_at is not None
                    self._require_live(term)
                    return Lease(
                        space_id=space_id,
                        replica_id=me.replica_id,
                        incarnation=me.incarnation,
                        epoch=current.epoch,
                        revision=entry.revision,
                        acquired_at=current.acquired_at,
                        term=term,
                    )
                if await self._is_live(current):
                    raise Moved(
                        f"space {space_id} is held by replica {current.replica_id}",
                        details={"owner": current.replica_id, "spaceId": space_id, "epoch": current.epoch},
                    )
            record = LeaseRecord(
                replica_id=me.replica_id,
                incarnation=me.incarnation,
                epoch=(current.epoch if current is not None else 0) + 1,
                acquired_at=datetime.now(UTC),
            )
            with unavailable_on_nats_errors(f"acquiring the lease of space {space_id}"):
                try:
                    if entry is None:
                        revision = await owners.create(space_id, record.to_json())
                    else:
                        revision = await owners.update(space_id, record.to_json(), last=entry.revision)
                except KeyWrongLastSequenceError:
                    continue  # someone wrote first: look again
            if current is not None and current.is_held:
                log.info(
                    "replica %s took over space %s from %s (epoch %d)",
                    me.replica_id,
                    space_id,
                    current.replica_id,
                    record.epoch,
                )
            assert record.acquired_at is not None
            return Lease(
                space_id=space_id,
                replica_id=me.replica_id,
                incarnation=me.incarnation,
                epoch=record.epoch,
                revision=revision,
                acquired_at=record.acquired_at,
                term=term,
            )
        raise Conflict(f"the lease of space {space_id} kept changing", details={"spaceId": space_id})

    def still_holds(self, lease: Lease) -> bool:
        """True while nobody can have taken the lease over, known without asking the server."""
        return lease.incarnation == self._heartbeat.incarnation and self._heartbeat.is_live(lease.term)

    async def verify(self, lease: Lease) -> Lease:
        """Confirm with the server that `lease` is intact; returns it under the current term.

        Raises `Moved` (naming the new holder, if any) when the lease was taken over or
        released, and `Unavailable` while this replica is not certainly live.
        """
        owners = await self._owners_kv()
        term = self._require_live()
        entry = await read(owners, lease.space_id)
        if entry is None or entry.revision != lease.revision or lease.incarnation != self._heartbeat.incarnation:
            current = _decode(lease.space_id, entry)
            holder = current.replica_id if current is not None else None
            raise Moved(
                f"replica {self.replica_id} no longer holds space {lease.space_id}",
                details={"owner": holder, "spaceId": lease.space_id},
            )
        self._require_live(term)
        return replace(lease, term=term)

    async def release(self, lease: Lease) -> bool:
        """Give the space up (keeping its epoch); False if it had already been taken over."""
        owners = await self._owners_kv()
        if lease.incarnation != self._heartbeat.incarnation:
            return False
        record = LeaseRecord(replica_id=None, incarnation=None, epoch=lease.epoch, released_at=datetime.now(UTC))
        with unavailable_on_nats_errors(f"releasing the lease of space {lease.space_id}"):
            try:
                await owners.update(lease.space_id, record.to_json(), last=lease.revision)
            except KeyWrongLastSequenceError:
                return False
        return True

    async def holder(self, space_id: str) -> Lease | None:
        """The lease currently recorded for the space, whoever holds it; None if nobody does."""
        _check_space_id(space_id)
        entry = await read(await self._owners_kv(), space_id)
        current = _decode(space_id, entry)
        if current is None or not current.is_held:
            return None
        assert entry is not None and entry.revision is not None
        assert current.replica_id is not None and current.incarnation is not None and current.acquired_at is not None
        return Lease(
            space_id=space_id,
            replica_id=current.replica_id,
            incarnation=current.incarnation,
            epoch=current.epoch,
            revision=entry.revision,
            acquired_at=current.acquired_at,
        )

    # -- internals -------------------------------------------------------------------

    def _require_live(self, term: int | None = None) -> int:
        heartbeat = self._heartbeat
        if not heartbeat.is_live(term):
            raise Unavailable(
                f"replica {heartbeat.replica_id} is not certainly live (heartbeat not started or lapsed)",
                details={"replica": heartbeat.replica_id},
            )
        return heartbeat.term

    async def _is_live(self, lease: LeaseRecord) -> bool:
        """Ask the server, not a cached view: is the lease's holder (that incarnation) heartbeating?"""
        assert lease.replica_id is not None
        entry = await read(await self._replicas_kv(), lease.replica_id)
        if entry is None:
            return False
        try:
            record = ReplicaRecord.model_validate_json(entry.value or b"")
        except ValidationError:
            return False
        return record.incarnation == lease.incarnation

    async def _owners_kv(self) -> KeyValue:
        if self._owners is None:
            with unavailable_on_nats_errors("opening the lease table"):
                self._owners = await self._bus.js.key_value(subjects.KV_SPACE_OWNERS)
        return self._owners

    async def _replicas_kv(self) -> KeyValue:
        if self._replicas is None:
            with unavailable_on_nats_errors("opening the replica directory"):
                self._replicas = await self._bus.js.key_value(subjects.KV_STATE_REPLICAS)
        return self._replicas


def _check_space_id(space_id: str) -> None:
    if not _SPACE_ID.match(space_id):
        raise ValidationFailed(f"{space_id!r} is not a valid space id", details={"spaceId": space_id})


def _decode(space_id: str, entry: KeyValue.Entry | None) -> LeaseRecord | None:
    if entry is None:
        return None
    try:
        return LeaseRecord.model_validate_json(entry.value or b"")
    except ValidationError:
        # Never silently take over a lease we cannot read: someone must look at it.
        raise Conflict(
            f"the lease of space {space_id} is unreadable", details={"spaceId": space_id, "revision": entry.revision}
        ) from None
