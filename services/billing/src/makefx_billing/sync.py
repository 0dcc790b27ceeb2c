"""The sync of the ledger to Polar: every interval, unsynced events in batches, marked once Polar answered.

Order is what makes it safe: send, then mark synced in one transaction. A crash between
the two leaves the batch unsynced, so it is sent again; Polar drops the repeat by
`external_id`. A failure (Polar down, 5xx, 429, the ledger unavailable) retries with
exponential backoff, never sooner than Polar's Retry-After, and loses nothing: events
stay unsynced in the ledger until Polar accepts them. The loop waits through its `sleep`
port, so a test can see the delay it chose (from the backoff or Retry-After) without
waiting it out.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from makefx_billing import domain
from makefx_billing.service import Clock, utc_now
from makefx_billing.store import LedgerStore
from makefx_bus.tasks import cancel_and_wait
from makefx_contracts.errors import Unavailable
from makefx_contracts.usage import UsageRecorded

log = logging.getLogger(__name__)

Sleep = Callable[[float], Awaitable[None]]


@dataclass(frozen=True)
class IngestResult:
    inserted: int
    duplicates: int


class SinkFailed(Exception):
    """The billing provider did not take the batch; `retry_after` is its own hint in seconds."""

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class UsageSink(Protocol):
    async def ingest(self, events: Sequence[UsageRecorded]) -> IngestResult: ...

    async def close(self) -> None: ...


@dataclass(frozen=True)
class SyncReport:
    sent: int
    inserted: int
    duplicates: int


class PolarSync:
    def __init__(
        self,
        store: LedgerStore,
        sink: UsageSink,
        *,
        interval_seconds: float,
        batch_size: int,
        retry_initial_seconds: float,
        retry_max_seconds: float,
        clock: Clock = utc_now,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self.store = store
        self.sink = sink
        self.interval = interval_seconds
        self.batch_size = batch_size
        self.retry_initial = retry_initial_seconds
        self.retry_max = retry_max_seconds
        self.clock = clock
        self.sleep = sleep
        self.failures = 0
        self._task: asyncio.Task[None] | None = None

    async def sync_pending(self) -> SyncReport:
        """Send every unsynced event, batch by batch; raises `SinkFailed` or `Unavailable` part way."""
        sent = inserted = duplicates = 0
        while True:
            batch = await self.store.unsynced(self.batch_size)
            if not batch:
                return SyncReport(sent, inserted, duplicates)
            result = await self.sink.ingest(batch)
            await self.store.mark_synced([usage.id for usage in batch], domain.to_millis(self.clock()))
            sent += len(batch)
            inserted += result.inserted
            duplicates += result.duplicates
            if result.duplicates:
                log.info("Polar already had %d of %d usage events (a resend)", result.duplicates, len(batch))

    async def run(self) -> None:
        """Sync now, then every interval; after a failure, back off and retry."""
        while True:
            try:
                report = await self.sync_pending()
            except (SinkFailed, Unavailable) as error:
                self.failures += 1
                delay = domain.retry_delay(
                    self.failures, self.retry_initial, self.retry_max, getattr(error, "retry_after", None)
                )
                log.warning("usage sync to Polar failed (%s); retrying in %.1fs", error, delay)
            except Exception:
                # A bug or a ledger failure: the loop must outlive it, or usage would stop reaching Polar.
                self.failures += 1
                delay = domain.retry_delay(self.failures, self.retry_initial, self.retry_max, None)
                log.exception("usage sync to Polar failed unexpectedly; retrying in %.1fs", delay)
            else:
                if report.sent:
                    log.info("synced %d usage events to Polar", report.sent)
                self.failures = 0
                delay = self.interval
            await self.sleep(delay)

    async def start(self) -> None:
        self._task = asyncio.create_task(self.run(), name="polar-sync")

    async def stop(self) -> None:
        await cancel_and_wait(self._task)
        self._task = None
        await self.sink.close()
