"""Which space-state replicas are alive: each heartbeats into KV `fx_state_replicas`; routers watch it.

What nats-server 2.15 does when a heartbeat expires (measured, see tests/test_replicas.py):
the bucket's TTL is the stream's `max_age`, so the entry silently leaves the stream about
one TTL after its last put, and a watcher is told nothing — no delete or purge marker
arrives unless the bucket sets `subject_delete_marker_ttl` (then a `Nats-Marker-Reason:
MaxAge` marker arrives, surfaced by nats-py as a PURGE). So the directory handles both:
markers and deletes remove a replica at once, and a sweep asks the server about every
replica not heard from for a TTL (as soon as that TTL is up, then every TTL/20) and drops
those the server no longer has. A replica that dies without deregistering therefore
leaves the ring within TTL/20 of the server expiring its entry, itself one TTL after the
last beat (plus, measured, up to 250 ms).
The bucket is in memory, so a NATS restart empties it: heartbeats declare it again and
directories start a fresh watch after every reconnect (and every 20 TTLs regardless).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

import nats.errors
from nats.js.errors import NoStreamResponseError
from nats.js.kv import KeyValue
from pydantic import ValidationError, model_validator

from makefx_bus import Bus, streams
from makefx_bus.tasks import cancel_and_wait
from makefx_contracts import Model, subjects
from makefx_contracts.errors import FxError, Unavailable
from makefx_router._kv import is_present, read, replayed_entries, unavailable_on_nats_errors
from makefx_router.ring import Ring

log = logging.getLogger(__name__)

# A beat is due every TTL/3, so two consecutive lost beats still leave the entry alive.
_BEATS_PER_TTL = 3
# Sweep for silently expired entries four times per TTL.
_SWEEPS_PER_TTL = 4
# While a silent replica's entry lingers past its expected expiry, ask again every TTL/20.
_RECHECKS_PER_TTL = 20
# Timers may fire this early; a sweep due now still checks the replica.
_EARLY_SECONDS = 0.005
# Rebuild the view from scratch at least this often (in TTLs), whatever else happened.
_RESYNC_TTLS = 20
# `is_live` answers False this fraction of a TTL before the server could expire our entry,
# leaving room for the write a caller is about to make after asking.
_SAFETY_FRACTION = 0.1


class ReplicaRecord(Model):
    """The value a live replica keeps in `fx_state_replicas` under its id."""

    replica_id: str
    # A fresh id per process start: a restarted replica keeps its id but not its predecessor's leases.
    incarnation: str
    started_at: datetime
    heartbeat_at: datetime
    url: str | None = None

    @model_validator(mode="after")
    def _id_is_a_subject_token(self) -> ReplicaRecord:
        subjects.STATE_COMMANDS.fill(replica=self.replica_id)
        return self


def replica_subject(replica_id: str) -> str:
    """`fx.state.<replica>.cmd`: where a replica answers commands for the spaces it owns."""
    return subjects.STATE_COMMANDS.fill(replica=replica_id)


class ReplicaHeartbeat:
    """Keeps this replica's entry in `fx_state_replicas` fresh while it runs.

    `start()` writes the first beat (so the replica is visible when it returns) and
    beats every TTL/3; `stop()` deletes the entry so routers drop the replica at once.

    It also knows, without asking the server, whether this replica is certainly still
    live: the server keeps an entry for a TTL after storing it, and it stored the beat no
    earlier than we sent it, so the replica is live until `send time + TTL`. Nobody can
    take this replica's leases before that (see `leases.py`). Each time that window closes
    before the next beat lands, `term` increases: leases confirmed in an earlier term may
    have been taken over meanwhile and must be verified again.
    """

    def __init__(self, bus: Bus, replica_id: str, *, url: str | None = None) -> None:
        replica_subject(replica_id)  # refuse an id that cannot be a subject token
        self._bus = bus
        self.replica_id = replica_id
        self.incarnation = uuid.uuid4().hex
        self.url = url
        self.ttl = bus.settings.replica_heartbeat_ttl_seconds
        self._started_at = datetime.now(UTC)
        self._kv: KeyValue | None = None
        self._task: asyncio.Task[None] | None = None
        self._term = 0
        self._live_until = -math.inf

    @property
    def interval(self) -> float:
        return self.ttl / _BEATS_PER_TTL

    @property
    def term(self) -> int:
        """Increases whenever this replica's liveness lapsed (0 before the first beat)."""
        return self._term

    def is_live(self, term: int | None = None) -> bool:
        """Certainly live now (and, given `term`, without a lapse since that term began)."""
        if term is not None and term != self._term:
            return False
        return time.monotonic() < self._live_until - self.ttl * _SAFETY_FRACTION

    async def start(self) -> None:
        if self._task is not None and not self._task.done():
            return
        with unavailable_on_nats_errors("opening the replica directory"):
            self._kv = await self._bus.js.key_value(subjects.KV_STATE_REPLICAS)
            bucket_ttl = (await self._kv.status()).ttl
        if bucket_ttl:
            # Liveness promises rest on the TTL the server enforces, whatever this process was told.
            self.ttl = min(self._bus.settings.replica_heartbeat_ttl_seconds, bucket_ttl)
        await self._beat()
        self._task = asyncio.create_task(self._beat_forever(), name=f"heartbeat:{self.replica_id}")

    async def stop(self, *, deregister: bool = True) -> None:
        """Stop beating; with `deregister` (a clean stop) also delete the entry.

        `deregister=False` leaves the entry to expire, as a crash would.
        """
        await cancel_and_wait(self._task)
        self._task = None
        if deregister and self._kv is not None:
            self._live_until = -math.inf
            await self._deregister(self._kv)

    async def _deregister(self, kv: KeyValue) -> None:
        """Delete our entry, and only ours: a successor with the same id may already have replaced it."""
        try:
            entry = await read(kv, self.replica_id)
            if entry is None:
                return
            try:
                owner = ReplicaRecord.model_validate_json(entry.value or b"").incarnation
            except ValidationError:
                owner = None
            if owner != self.incarnation:
                log.info("replica %s: its entry belongs to a newer incarnation; leaving it", self.replica_id)
                return
            await kv.delete(self.replica_id, last=entry.revision)
        except (nats.errors.Error, Unavailable) as error:
            # Not fatal for a stopping replica: the entry expires within a TTL instead.
            log.warning("replica %s: could not delete its entry: %r", self.replica_id, error)

    async def _beat(self) -> None:
        assert self._kv is not None
        now = datetime.now(UTC)
        record = ReplicaRecord(
            replica_id=self.replica_id,
            incarnation=self.incarnation,
            started_at=self._started_at,
            heartbeat_at=now,
            url=self.url,
        )
        sent = time.monotonic()
        with unavailable_on_nats_errors(f"heartbeating replica {self.replica_id}"):
            await self._kv.put(self.replica_id, record.to_json())
        acked = time.monotonic()
        if acked >= self._live_until:
            self._term += 1
        self._live_until = sent + self.ttl

    async def _beat_forever(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            try:
                await self._beat()
            except Unavailable as error:
                log.warning("replica %s: heartbeat failed: %s", self.replica_id, error.message)
                if isinstance(error.__cause__, NoStreamResponseError):
                    # A memory bucket does not survive a NATS restart: declare it again.
                    await self._reprovision()
            except Exception:
                # The heartbeat must outlive any one failure: without it the replica loses its spaces.
                log.exception("replica %s: heartbeat failed", self.replica_id)

    async def _reprovision(self) -> None:
        try:
            await streams.provision(self._bus.js, self._bus.settings)
            self._kv = await self._bus.js.key_value(subjects.KV_STATE_REPLICAS)
        except (nats.errors.Error, FxError) as error:
            log.warning("replica %s: could not provision the buckets again: %r", self.replica_id, error)


@dataclass
class _Seen:
    record: ReplicaRecord
    revision: int
    # Monotonic time at which the beat was written, as far as we can tell.
    at: float


ChangeListener = Callable[[Ring], None]


class ReplicaDirectory:
    """The live replicas as this process sees them, kept current by watching `fx_state_replicas`.

    `ring` changes only when the set of replica ids changes; each change bumps `version`,
    wakes `wait_for_change()` and calls the listeners. `refresh()` rebuilds the view from
    the server (a fresh watch), for callers who were told their view is stale.
    """

    def __init__(self, bus: Bus) -> None:
        self._bus = bus
        self.ttl = bus.settings.replica_heartbeat_ttl_seconds
        self._seen: dict[str, _Seen] = {}
        self._ring = Ring()
        self._version = 0
        self._changed = asyncio.Event()
        self._listeners: list[ChangeListener] = []
        self._kv: KeyValue | None = None
        self._watcher: KeyValue.KeyWatcher | None = None
        self._follower: asyncio.Task[None] | None = None
        self._sweeper: asyncio.Task[None] | None = None
        self._refreshing: asyncio.Task[None] | None = None
        self._refreshed_at = -math.inf
        self._reconnects_seen = -1

    # -- lifecycle -------------------------------------------------------------------

    async def start(self) -> None:
        """Load the live set; returns once the view reflects the server."""
        with unavailable_on_nats_errors("opening the replica directory"):
            self._kv = await self._bus.js.key_value(subjects.KV_STATE_REPLICAS)
        await self.refresh()
        self._sweeper = asyncio.create_task(self._sweep_forever(), name="replica-directory-sweep")

    async def stop(self) -> None:
        for task in (self._sweeper, self._refreshing):
            await cancel_and_wait(task)
        self._sweeper = self._refreshing = None
        await self._stop_following()

    # -- the view --------------------------------------------------------------------

    @property
    def ring(self) -> Ring:
        return self._ring

    @property
    def version(self) -> int:
        return self._version

    @property
    def replicas(self) -> Mapping[str, ReplicaRecord]:
        return {replica_id: seen.record for replica_id, seen in self._seen.items()}

    def owner_of(self, space_id: str) -> str:
        """The replica that should own the space; raises `Unavailable` when none is live."""
        return self._ring.owner_of(space_id)

    def is_live(self, replica_id: str) -> bool:
        return replica_id in self._seen

    def add_listener(self, listener: ChangeListener) -> Callable[[], None]:
        """Call `listener(ring)` after every change of the live set; returns the unsubscribe."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener)

    async def wait_for_change(self, timeout: float | None = None) -> bool:
        """Wait until the live set changes; False if `timeout` passed first."""
        changed = self._changed
        try:
            await asyncio.wait_for(changed.wait(), timeout)
        except TimeoutError:
            return False
        return True

    async def wait_until(self, predicate: Callable[[Ring], bool], timeout: float) -> Ring:
        """Wait until `predicate(ring)` holds; raises `TimeoutError` after `timeout` seconds."""
        deadline = time.monotonic() + timeout
        while not predicate(self._ring):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"the replica set {self._ring!r} did not reach the expected state in {timeout}s")
            await self.wait_for_change(remaining)
        return self._ring

    async def refresh(self) -> None:
        """Rebuild the view from the server. Concurrent callers share one rebuild."""
        if self._refreshing is None or self._refreshing.done():
            self._refreshing = asyncio.create_task(self._rewatch(), name="replica-directory-refresh")
        await asyncio.shield(self._refreshing)

    # -- keeping it current ----------------------------------------------------------

    async def _rewatch(self) -> None:
        kv = self._require_kv()
        reconnects = self._reconnects()
        with unavailable_on_nats_errors("watching the replica directory"):
            watcher = await kv.watchall()
            try:
                snapshot: dict[str, _Seen] = {}
                # A partial replay would show a ring without some live replicas, and owners would hand off.
                timeout = self._bus.settings.request_timeout_seconds
                for entry in await replayed_entries(kv, watcher, timeout=timeout):
                    self._absorb(snapshot, entry, replayed=True)
            except BaseException:
                await watcher.stop()
                raise
        # Stop the old watch before swapping, so a lagging update cannot overwrite the snapshot.
        await self._stop_following()
        self._watcher = watcher
        self._seen = snapshot
        self._follower = asyncio.create_task(self._follow(watcher), name="replica-directory-watch")
        self._refreshed_at = time.monotonic()
        self._reconnects_seen = reconnects
        self._publish_if_changed()

    async def _follow(self, watcher: KeyValue.KeyWatcher) -> None:
        async for entry in watcher:
            if entry is not None:
                self._absorb(self._seen, entry, replayed=False)
                self._publish_if_changed()

    async def _stop_following(self) -> None:
        follower, watcher = self._follower, self._watcher
        self._follower = self._watcher = None
        await cancel_and_wait(follower)
        if watcher is not None:
            with contextlib.suppress(nats.errors.Error):
                await watcher.stop()

    def _absorb(self, view: dict[str, _Seen], entry: KeyValue.Entry, *, replayed: bool) -> None:
        if not is_present(entry):
            view.pop(entry.key, None)
            return
        try:
            record = ReplicaRecord.model_validate_json(entry.value or b"")
        except ValidationError:
            log.warning("ignoring a malformed entry %r in %s", entry.key, subjects.KV_STATE_REPLICAS)
            view.pop(entry.key, None)
            return
        at = time.monotonic()
        if replayed and entry.created is not None:
            # A replayed beat may be up to a TTL old already; the server's timestamp says how old.
            age = (datetime.now(UTC) - entry.created).total_seconds()
            at -= min(max(age, 0.0), self.ttl)
        view[entry.key] = _Seen(record=record, revision=entry.revision or 0, at=at)

    def _publish_if_changed(self) -> None:
        if set(self._seen) == set(self._ring.replicas):
            return
        self._ring = Ring(self._seen)
        self._version += 1
        changed, self._changed = self._changed, asyncio.Event()
        changed.set()
        log.info("live space-state replicas: %s", list(self._ring.replicas))
        for listener in list(self._listeners):
            try:
                listener(self._ring)
            except Exception:
                log.exception("a replica-directory listener failed")

    async def _sweep_forever(self) -> None:
        delay = self._next_sweep_in()
        while True:
            await asyncio.sleep(delay)
            try:
                if self._needs_rewatch():
                    await self.refresh()
                else:
                    await self._sweep()
                delay = self._next_sweep_in()
            except Unavailable as error:
                log.warning("replica directory: %s", error.message)
                # While NATS is failing every replica looks silent: ask at the regular pace, not faster.
                delay = self.ttl / _SWEEPS_PER_TTL
            except Exception:
                # The sweep must outlive any one failure: without it a dead replica keeps its spaces.
                log.exception("replica directory: the sweep failed")
                delay = self.ttl / _SWEEPS_PER_TTL

    def _next_sweep_in(self) -> float:
        """Seconds to the next sweep: every TTL/4, and as soon as a silent replica's entry is due to expire.

        A crashed replica's entry leaves the server a TTL after its last beat (nats-server 2.15,
        measured: mostly within 10 ms, sometimes 250 ms late), so asking then, and every TTL/20
        while it lingers, drops it from the ring within ~TTL/20 of the server doing so instead of
        up to TTL/4 later: failover waits on it.
        """
        now = time.monotonic()
        due = min((seen.at + self.ttl - now for seen in self._seen.values()), default=math.inf)
        return max(min(self.ttl / _SWEEPS_PER_TTL, due), self.ttl / _RECHECKS_PER_TTL)

    def _needs_rewatch(self) -> bool:
        # After a reconnect the watch may follow a bucket that no longer exists: a memory bucket
        # is recreated empty after a NATS restart, and the old watch never sees its new entries.
        return (
            self._follower is None
            or self._follower.done()
            or self._reconnects() != self._reconnects_seen
            or time.monotonic() - self._refreshed_at > _RESYNC_TTLS * self.ttl
        )

    def _reconnects(self) -> int:
        return self._bus.nats.stats["reconnects"]

    async def _sweep(self) -> None:
        """Drop replicas the server no longer has: TTL expiry is not announced to watchers."""
        kv = self._require_kv()
        now = time.monotonic()
        for replica_id, seen in list(self._seen.items()):
            if now - seen.at < self.ttl - _EARLY_SECONDS:
                continue
            entry = await read(kv, replica_id)
            if self._seen.get(replica_id) is not seen:
                continue  # the watch delivered something newer meanwhile
            if entry is None:
                del self._seen[replica_id]
            elif entry.revision != seen.revision:
                self._absorb(self._seen, entry, replayed=False)
        self._publish_if_changed()

    def _require_kv(self) -> KeyValue:
        if self._kv is None:
            raise Unavailable("the replica directory is not started")
        return self._kv
