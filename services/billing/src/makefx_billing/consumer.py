"""The durable JetStream consumer of `USAGE` that feeds the ledger.

A `WorkQueueConsumer` with explicit acks, handling events one after the other in stream
order (`batch` fetched at a time): an event is acknowledged only after the ledger has
committed it (or already had its id), so a crash at any point redelivers rather than
loses. A ledger outage hands the event back with a growing delay; a message that does not
match the contract is terminated (it can never succeed) and logged. Multiple billing
replicas share the one durable consumer.
"""

from __future__ import annotations

from pydantic import TypeAdapter

from makefx_billing import domain
from makefx_billing.service import Ledger
from makefx_bus import Bus, Delivery, Redeliver, WorkQueueConsumer
from makefx_contracts import subjects
from makefx_contracts.errors import Unavailable
from makefx_contracts.usage import UsageRecorded

_USAGE = TypeAdapter(UsageRecorded)
_NAK_INITIAL_SECONDS = 1.0
_NAK_MAX_SECONDS = 60.0


class UsageConsumer:
    def __init__(
        self,
        bus: Bus,
        ledger: Ledger,
        *,
        durable: str,
        batch: int,
        ack_wait_seconds: float,
        max_deliver: int,
    ) -> None:
        self.ledger = ledger
        self.consumer = WorkQueueConsumer(
            bus,
            self.on_usage,
            contract=_USAGE,
            stream=subjects.STREAM_USAGE,
            subject=subjects.USAGE_EVENTS.fill(),
            durable=durable,
            concurrency=1,
            batch=batch,
            ack_wait_seconds=ack_wait_seconds,
            max_deliver=max_deliver,
            backoff_seconds=[
                domain.retry_delay(failures, _NAK_INITIAL_SECONDS, _NAK_MAX_SECONDS)
                for failures in range(1, max_deliver + 1)
            ],
            what="usage event",
        )

    async def start(self) -> None:
        await self.consumer.start()

    async def stop(self) -> None:
        await self.consumer.stop()

    async def on_usage(self, usage: UsageRecorded, delivery: Delivery) -> None:
        try:
            await self.ledger.record(usage)
        except Unavailable as error:
            raise Redeliver(f"usage {usage.id} not recorded ({error})") from error
