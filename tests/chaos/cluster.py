"""A cluster for chaos tests: space-state replicas as real OS processes, and a client that routes to them.

Each replica is `python -m makefx_space_state` with its own data directory (its own
disk) and one object-store directory shared by all of them (standing in for S3, where
handoff snapshots live). The client is what a gateway is: a `Bus`, a `ReplicaDirectory`
and a `SpaceRouter`. Replica logs are kept beside the data directories.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Awaitable, Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

import httpx
import nats.errors
from nats.js.kv import KeyValue

from makefx_bus import Bus
from makefx_cli.children import die_with_parent
from makefx_cli.nats_server import NatsServer, free_port
from makefx_contracts import subjects
from makefx_contracts.identity import Role
from makefx_contracts.rows import AssetRow
from makefx_contracts.space import Actor, Applied, AssetChanges, CreateAsset, GetSpaceState, UpdateAsset
from makefx_router import LeaseRecord, ReplicaDirectory, SpaceRouter

# nats-py's watch may signal the end of its replay before the entries: the router's helper copes.
from makefx_router._kv import replayed_entries

T = TypeVar("T")

ACTOR = Actor(user_id="usr_test", role=Role.OWNER)
# Keep the production default: the failover bound is stated against it.
HEARTBEAT_TTL_SECONDS = 3
READY_TIMEOUT_SECONDS = 30.0
# Commands in flight at once from the test client (a gateway under load).
CLIENT_CONCURRENCY = 64


@dataclass
class Replica:
    """One `python -m makefx_space_state` process."""

    replica_id: str
    data_dir: Path
    http_port: int
    log_path: Path
    process: subprocess.Popen[bytes]

    @property
    def ready_url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}/readyz"

    def kill(self) -> None:
        """SIGKILL: no handoff, no deregistration, no flush — a crash."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait()

    def log_tail(self, lines: int = 40) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return "(no log)"
        return "\n".join(text.splitlines()[-lines:])


@dataclass
class Acked:
    """One write the cluster acknowledged."""

    space_id: str
    request_id: str
    seq: int
    name: str


@dataclass
class Cluster:
    """The replicas of one test, and the client that routes commands to them."""

    root: Path
    nats: NatsServer
    bus: Bus
    directory: ReplicaDirectory
    router: SpaceRouter
    replicas: dict[str, Replica] = field(default_factory=dict)
    # space id -> the asset it holds (one per space), and every write acknowledged, in order.
    assets: dict[str, str] = field(default_factory=dict)
    acked: dict[str, list[Acked]] = field(default_factory=dict)
    _numbers: Iterator[int] = field(default_factory=lambda: itertools.count(1))

    @property
    def objects_dir(self) -> Path:
        return self.root / "objects"

    # -- replicas ------------------------------------------------------------------------

    def spawn(self) -> Replica:
        """Start one more replica process (not yet waited for)."""
        number = next(self._numbers)
        replica_id = f"state-{number}"
        data_dir = self.root / f"replica-{number}"
        data_dir.mkdir(parents=True)
        port = free_port()
        env = {key: value for key, value in os.environ.items() if not key.startswith("MAKEFX_")}
        env.update(
            MAKEFX_NATS_URL=self.nats.url,
            MAKEFX_DATA_DIR=str(data_dir),
            MAKEFX_REPLICA_ID=replica_id,
            MAKEFX_HTTP_HOST="127.0.0.1",
            MAKEFX_HTTP_PORT=str(port),
            MAKEFX_STORAGE_BACKEND="fs",
            MAKEFX_STORAGE_ROOT=str(self.objects_dir),
            MAKEFX_REPLICA_HEARTBEAT_TTL_SECONDS=str(HEARTBEAT_TTL_SECONDS),
            MAKEFX_LOG_FORMAT="text",
        )
        log_path = self.root / f"{replica_id}.log"
        with log_path.open("ab") as log:
            process = subprocess.Popen(
                [sys.executable, "-m", "makefx_space_state"],
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                preexec_fn=die_with_parent,
            )
        replica = Replica(replica_id, data_dir, port, log_path, process)
        self.replicas[replica_id] = replica
        return replica

    async def start_replicas(self, count: int) -> list[Replica]:
        """Start `count` replicas at once; return when every one answers /readyz and the client sees them all."""
        started = [self.spawn() for _ in range(count)]
        await asyncio.gather(*(self.wait_ready(replica) for replica in started))
        await self.directory.wait_until(
            lambda ring: set(self.live_ids) <= set(ring.replicas), timeout=READY_TIMEOUT_SECONDS
        )
        return started

    async def wait_ready(self, replica: Replica, timeout: float = READY_TIMEOUT_SECONDS) -> None:
        deadline = time.monotonic() + timeout
        async with httpx.AsyncClient(timeout=1.0) as http:
            while True:
                if replica.process.poll() is not None:
                    raise RuntimeError(
                        f"{replica.replica_id} exited with {replica.process.returncode}:\n{replica.log_tail()}"
                    )
                with contextlib.suppress(httpx.HTTPError):
                    if (await http.get(replica.ready_url)).status_code == 200:
                        return
                if time.monotonic() > deadline:
                    raise TimeoutError(f"{replica.replica_id} not ready within {timeout}s:\n{replica.log_tail()}")
                await asyncio.sleep(0.05)  # polling an HTTP endpoint: there is no event to wait on

    @property
    def live_ids(self) -> list[str]:
        return [replica_id for replica_id, replica in self.replicas.items() if replica.process.poll() is None]

    def shutdown(self) -> None:
        for replica in self.replicas.values():
            replica.kill()

    # -- leases --------------------------------------------------------------------------

    async def leases(self) -> dict[str, LeaseRecord]:
        """Every space's lease as `fx_space_owners` holds it now (released ones included)."""
        return await self.wait_for_leases(lambda leases: True, timeout=10)

    async def wait_for_leases(
        self, predicate: Callable[[dict[str, LeaseRecord]], bool], timeout: float
    ) -> dict[str, LeaseRecord]:
        """Watch `fx_space_owners` until `predicate(every lease)` holds; raises `TimeoutError` after `timeout`."""
        kv = await self.bus.js.key_value(subjects.KV_SPACE_OWNERS)
        watcher = await kv.watchall()
        records: dict[str, LeaseRecord] = {}

        def absorb(entry: KeyValue.Entry) -> None:
            if entry.value:
                records[entry.key] = LeaseRecord.model_validate_json(entry.value)
            else:
                records.pop(entry.key, None)

        deadline = time.monotonic() + timeout
        try:
            for entry in await replayed_entries(kv, watcher, timeout=timeout):
                absorb(entry)
            while not predicate(records):
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError(f"the leases did not reach the expected state within {timeout}s")
                with contextlib.suppress(nats.errors.TimeoutError):
                    if (entry := await watcher.updates(timeout=remaining)) is not None:
                        absorb(entry)
            return records
        finally:
            await watcher.stop()

    async def holders(self) -> dict[str, str | None]:
        """space id -> the replica holding its lease (None when released)."""
        return {space_id: record.replica_id for space_id, record in (await self.leases()).items()}

    # -- writes --------------------------------------------------------------------------

    async def create_spaces(self, count: int) -> list[str]:
        """`count` new spaces, each with one asset (so each takes one lease), through the router."""
        space_ids = [uuid.uuid4().hex for _ in range(count)]
        await self.each(space_ids, self.create_asset)
        return space_ids

    async def create_asset(self, space_id: str) -> Applied:
        request_id = f"create-{uuid.uuid4().hex}"
        name = f"asset of {space_id[:8]}"
        applied = await self.router.request(
            space_id,
            CreateAsset(space_id=space_id, request_id=request_id, actor=ACTOR, name=name, asset_type="character"),
        )
        self.assets[space_id] = applied.events[0].asset.id
        self._record(space_id, request_id, applied, name)
        return applied

    async def rename(self, space_id: str, *, deadline_seconds: float | None = None) -> Applied:
        """One acknowledged `UpdateAsset` of the space's asset, recorded with the name it set."""
        request_id = f"rename-{uuid.uuid4().hex}"
        name = f"name {request_id[-12:]}"
        applied = await self.router.request(
            space_id,
            UpdateAsset(
                space_id=space_id,
                request_id=request_id,
                actor=ACTOR,
                asset_id=self.assets[space_id],
                changes=AssetChanges(name=name),
            ),
            deadline_seconds=deadline_seconds,
        )
        self._record(space_id, request_id, applied, name)
        return applied

    def _record(self, space_id: str, request_id: str, applied: Applied, name: str) -> None:
        # A retry after a timeout may come back as a duplicate: it still names the one event applied.
        assert len(applied.events) == 1, applied
        self.acked.setdefault(space_id, []).append(Acked(space_id, request_id, applied.events[0].seq, name))

    @staticmethod
    async def each(
        space_ids: Iterable[str], work: Callable[[str], Awaitable[T]], *, concurrency: int = CLIENT_CONCURRENCY
    ) -> list[T]:
        """`work(space_id)` for every space, at most `concurrency` at once; results in order."""
        slots = asyncio.Semaphore(concurrency)

        async def one(space_id: str) -> T:
            async with slots:
                return await work(space_id)

        return await asyncio.gather(*(one(space_id) for space_id in space_ids))

    async def read_state(self, space_id: str) -> tuple[int, list[AssetRow]]:
        """The space's seq and live assets, read from its owner (all parts of one read)."""
        first = await self.router.request(space_id, GetSpaceState(space_id=space_id))
        body = first.body
        for index in range(1, first.parts):
            part = await self.router.request(
                space_id, GetSpaceState(space_id=space_id, snapshot_id=first.snapshot_id, part=index)
            )
            body += part.body
        return first.seq, [AssetRow.model_validate(asset) for asset in json.loads(body)["assets"]]

    def logs(self) -> str:
        """The tail of every replica's log, for a failed test's report."""
        return "\n\n".join(
            f"--- {replica_id} (exit {replica.process.poll()}) ---\n{replica.log_tail()}"
            for replica_id, replica in self.replicas.items()
        )
