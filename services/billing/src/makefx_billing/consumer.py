"""The durable JetStream consumer of `USAGE` that feeds the ledger.

A pull consumer with explicit acks: an event is acknowledged only after the ledger has
committed it (or already had its id), so a crash at any point redelivers rather than
loses. A ledger outage NAKs with a growing delay; a message that does not match the
contract is terminated (it can never succeed) and logged. Multiple billing replicas
share the one durable consumer.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

import nats.errors
from nats.aio.msg import Msg
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
from nats.js.client import JetStreamContext
from pydantic import TypeAdapter

from makefx_billing import domain
from makefx_billing.service import Ledger
from makefx_bus import Bus
from makefx_bus.codec import decode
from makefx_contracts import subjects
from makefx_contracts.errors import InvalidMessage, Unavailable
from makefx_contracts.usage import UsageRecorded

log = logging.getLogger(__name__)

_USAGE = TypeAdapter(UsageRecorded)
_FETCH_WAIT_SECONDS = 2.0
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
        self.bus = bus
        self.ledger = ledger
        self.durable = durable
        self.batch = batch
        self.ack_wait = ack_wait_seconds
        self.max_deliver = max_deliver
        self._subscription: JetStreamContext.PullSubscription | None = None
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        config = ConsumerConfig(
            durable_name=self.durable,
            deliver_policy=DeliverPolicy.ALL,
            ack_policy=AckPolicy.EXPLICIT,
            ack_wait=self.ack_wait,
            max_deliver=self.max_deliver,
            filter_subject=subjects.USAGE_EVENTS.fill(),
        )
        self._subscription = await self.bus.js.pull_subscribe(
            subjects.USAGE_EVENTS.fill(), durable=self.durable, stream=subjects.STREAM_USAGE, config=config
        )
        self._task = asyncio.create_task(self._run(), name="usage-consumer")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        if self._subscription is not None:
            # Unsubscribing keeps the durable consumer (and its position) on the server.
            with contextlib.suppress(nats.errors.Error):
                await self._subscription.unsubscribe()
            self._subscription = None

    async def _run(self) -> None:
        assert self._subscription is not None
        while True:
            try:
                messages = await self._subscription.fetch(self.batch, timeout=_FETCH_WAIT_SECONDS)
            except nats.errors.TimeoutError:
                continue
            except nats.errors.Error as error:
                log.warning("fetching usage events failed: %s", error)
                await asyncio.sleep(1)
                continue
            for message in messages:
                await self.on_usage_message(message)

    async def on_usage_message(self, message: Msg) -> None:
        try:
            usage = decode(_USAGE, message.data)
        except InvalidMessage as error:
            log.error("terminating a usage message that does not match its contract: %s", error.details)
            await message.term()
            return
        try:
            await self.ledger.record(usage)
        except Unavailable as error:
            delivered = message.metadata.num_delivered or 1
            delay = domain.retry_delay(delivered, 1.0, _NAK_MAX_SECONDS)
            log.warning("usage %s not recorded (%s); redelivery in %.0fs", usage.id, error, delay)
            await message.nak(delay=delay)
            return
        await message.ack()
