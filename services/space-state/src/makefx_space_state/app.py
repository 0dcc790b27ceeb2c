"""Wires the space-state service: store, spaces, publisher, responders and health, built by `bootstrap`."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor

from fastapi import FastAPI

from makefx_bus import Bus
from makefx_bus.tasks import cancel_and_wait
from makefx_router import LeaseTable, ReplicaDirectory, ReplicaHeartbeat
from makefx_runtime import Service, build_app
from makefx_space_state import uploads
from makefx_space_state.handlers import StateHandlers
from makefx_space_state.history import SpaceHistory
from makefx_space_state.ownership import LeasedOwnership
from makefx_space_state.ports import Ownership
from makefx_space_state.publisher import BusEventPublisher, BusJobPublisher, BusTurnPublisher
from makefx_space_state.service import SpaceService
from makefx_space_state.settings import SpaceStateSettings
from makefx_space_state.snapshots import SnapshotArchive
from makefx_space_state.spaces import OpenSpaces
from makefx_space_state.store.sqlite import SqliteSpaceFiles
from makefx_storage import open_store

log = logging.getLogger(__name__)

_DAY_MS = 24 * 3600 * 1000


def bootstrap(settings: SpaceStateSettings, *, ownership: Ownership | None = None) -> FastAPI:
    """The app. Ownership defaults to leases over the live replicas; tests of one replica may pass `SoleOwner()`."""
    bus = Bus(settings)
    executor = ThreadPoolExecutor(max_workers=settings.store_threads, thread_name_prefix="space-store")
    files = SqliteSpaceFiles(settings.data_dir, executor)
    heartbeat = ReplicaHeartbeat(bus, settings.replica_id)
    directory = ReplicaDirectory(bus)
    objects = open_store(settings)
    leased = None
    if ownership is None:
        archive = SnapshotArchive(objects, settings.data_dir / "snapshots" / "incoming")
        leased = LeasedOwnership(settings.replica_id, directory, LeaseTable(bus, heartbeat), archive, SpaceHistory(bus))
        ownership = leased
    spaces = OpenSpaces(files.open, ownership=ownership, idle_close_seconds=settings.idle_close_seconds)
    service = SpaceService(
        spaces,
        BusEventPublisher(bus),
        files,
        keep_events=settings.events_keep,
        keep_request_ids_ms=int(settings.request_ids_keep_days * _DAY_MS),
        jobs=BusJobPublisher(bus),
        turns=BusTurnPublisher(bus),
    )
    StateHandlers(service).register(bus, settings.replica_id)
    republisher = _Every(settings.publish_retry_seconds, service.publish_pending, "republish pending events")
    expiry_ms = int(settings.upload_expiry_seconds * 1000)
    upload_sweep = _Every(
        settings.upload_sweep_seconds, lambda: uploads.sweep(service, bus, expiry_ms), "expire abandoned uploads"
    )

    if leased is not None:
        leased.service, leased.spaces = service, spaces

    async def start() -> None:
        await objects.start()
        await heartbeat.start()
        await directory.start()
        # Serve only once this replica sees itself in the ring, as every router soon will.
        await directory.wait_until(lambda ring: settings.replica_id in ring, settings.join_timeout_seconds)
        if leased is not None:
            leased.start()
        spaces.start_idle_closer()
        republisher.start()
        upload_sweep.start()

    async def stop() -> None:
        await upload_sweep.stop()
        await republisher.stop()
        if leased is not None:
            await leased.stop()
            await leased.hand_off_all()
        await spaces.close_all()
        await heartbeat.stop()
        await directory.stop()
        await objects.close()
        executor.shutdown(wait=True)

    return build_app(
        Service(
            settings=settings,
            bus=bus,
            title="Make Effects space-state",
            on_start=[start],
            on_stop=[stop],
            extra={"service": service, "spaces": spaces},
        )
    )


class _Every:
    """Runs `work` every `seconds` until stopped; a failure is logged and the next round runs anyway."""

    def __init__(self, seconds: float, work: Callable[[], Awaitable[object]], what: str) -> None:
        self.seconds = seconds
        self.work = work
        self.what = what
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name=self.what)

    async def stop(self) -> None:
        task, self._task = self._task, None
        await cancel_and_wait(task)

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.seconds)
            try:
                await self.work()
            except Exception:
                log.exception("%s failed; next try in %.0fs", self.what, self.seconds)
