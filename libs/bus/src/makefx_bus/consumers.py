"""Competing workers on a JetStream stream: one durable pull consumer, bounded concurrency, explicit acks.

Every replica of a service pulls from the same durable consumer, so each message is handled
by one of them. A message is acknowledged only after its handler returned; a handler that
raises `Redeliver` hands it back (`nak`) to come again after a growing delay, and after the
last delivery it is terminated. A message that does not match its contract can never
succeed: it is terminated at once. While a handler works, JetStream is told so
(`in_progress`) well within the ack wait, so a long job is not delivered to a second worker.
Messages in flight when the consumer stops are left unacknowledged: JetStream delivers them
again, to this or another replica.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

import nats.errors
from nats.aio.msg import Msg
from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
from pydantic import TypeAdapter

from makefx_bus.bus import Bus
from makefx_bus.codec import decode
from makefx_bus.tasks import cancel_and_wait
from makefx_contracts.errors import InvalidMessage

log = logging.getLogger(__name__)

M = TypeVar("M")

_FETCH_WAIT_SECONDS = 1.0
_FETCH_FAILED_PAUSE_SECONDS = 1.0


class Redeliver(Exception):
    """Raised by a handler that could not finish for now (a peer unreachable): the message comes again later.

    Its text, logged with the delivery number, says which message and why.
    """


@dataclass(frozen=True)
class Delivery:
    """Which delivery of its message a handler is given."""

    number: int
    """1 for the first delivery, 2 for the first redelivery, …"""
    is_last: bool
    """No delivery will follow this one: `Redeliver` now terminates the message."""


Handler = Callable[[M, Delivery], Awaitable[None]]


class WorkQueueConsumer(Generic[M]):
    """Pulls messages of one contract from a durable consumer and hands each to `handler`, `concurrency` at once.

    With `concurrency` 1 they are handled strictly in stream order, `batch` of them fetched
    at a time (as a ledger wants; those waiting their turn are not kept alive, so a batch
    must fit in the ack wait); otherwise only as many are fetched as there are free slots.
    `backoff_seconds[n - 1]` is the delay before the delivery after the n-th (the last one
    repeats). `what` names a message in logs ("generation job").
    """

    def __init__(
        self,
        bus: Bus,
        handler: Handler[M],
        *,
        contract: TypeAdapter[M],
        stream: str,
        subject: str,
        durable: str,
        concurrency: int,
        ack_wait_seconds: float,
        max_deliver: int,
        backoff_seconds: Sequence[float] = (1.0,),
        batch: int = 1,
        what: str,
    ) -> None:
        if concurrency < 1 or batch < 1:
            raise ValueError("a consumer handles at least one message at a time")
        if batch > 1 and concurrency > 1:
            raise ValueError("a batch is fetched ahead only when messages are handled in order (concurrency 1)")
        self.bus = bus
        self.handler = handler
        self.contract = contract
        self.stream = stream
        self.subject = subject
        self.durable = durable
        self.concurrency = concurrency
        self.ack_wait_seconds = ack_wait_seconds
        self.max_deliver = max_deliver
        self.backoff_seconds = tuple(backoff_seconds) or (1.0,)
        self.batch = batch
        self.what = what
        self._subscription: JetStreamContext.PullSubscription | None = None
        self._task: asyncio.Task[None] | None = None
        self._running: set[asyncio.Task[None]] = set()
        self._slots = asyncio.Semaphore(concurrency)
        self._stopping = False

    @property
    def is_consuming(self) -> bool:
        return self._task is not None and not self._task.done()

    async def problem(self) -> str | None:
        """A liveness check: why this consumer takes no message again until restarted, or None while it pulls."""
        return None if self.is_consuming else f"the {self.what} consumer is not consuming {self.stream}"

    async def start(self) -> None:
        """Create the durable consumer if it is new (an existing one keeps its position), then start pulling."""
        config = ConsumerConfig(
            durable_name=self.durable,
            deliver_policy=DeliverPolicy.ALL,
            ack_policy=AckPolicy.EXPLICIT,
            ack_wait=self.ack_wait_seconds,
            max_deliver=self.max_deliver,
            max_ack_pending=max(1000, self.concurrency * 4),
            filter_subject=self.subject,
        )
        self._subscription = await self.bus.js.pull_subscribe(
            self.subject, durable=self.durable, stream=self.stream, config=config
        )
        self._stopping = False
        pull = self._pull_in_order() if self.concurrency == 1 else self._pull_in_slots()
        self._task = asyncio.create_task(pull, name=f"{self.durable}-consumer")

    async def stop(self) -> None:
        """Stop pulling and abandon the messages in flight (unacknowledged, so JetStream delivers them again).

        The cancel alone may be lost: nats-py waits for a fetched message with `asyncio.wait_for`,
        which on Python 3.11 returns a message that arrives as it is cancelled instead of raising.
        The pull loop therefore also ends at its next turn once `_stopping` is set, leaving what
        it fetched meanwhile unacknowledged.
        """
        self._stopping = True
        await cancel_and_wait(self._task)
        self._task = None
        await asyncio.gather(*(cancel_and_wait(task) for task in list(self._running)))
        if self._subscription is not None:
            # Unsubscribing keeps the durable consumer (and its position) on the server.
            with contextlib.suppress(nats.errors.Error):
                await self._subscription.unsubscribe()
            self._subscription = None

    async def _pull_in_order(self) -> None:
        while not self._stopping:
            for message in await self._fetch(self.batch):
                if self._stopping:
                    break
                await self._handle_logged(message)

    async def _pull_in_slots(self) -> None:
        while not self._stopping:
            # Fetch as many messages as there are free slots: none waits in this process for a slot.
            await self._slots.acquire()
            free = 1
            while free < self.concurrency and not self._slots.locked():
                await self._slots.acquire()
                free += 1
            messages = await self._fetch(free)
            if self._stopping:
                messages = []
            for _ in range(free - len(messages)):
                self._slots.release()
            for message in messages:
                task = asyncio.create_task(self._handle_in_slot(message))
                self._running.add(task)
                task.add_done_callback(self._running.discard)

    async def _fetch(self, count: int) -> list[Msg]:
        """Up to `count` messages, or none; never raises (but on cancel): a pull loop that died would stop
        this replica's share of the work without a word, while its process still looks healthy."""
        assert self._subscription is not None
        try:
            return await self._subscription.fetch(count, timeout=_FETCH_WAIT_SECONDS)
        except TimeoutError:
            # Nothing came in time. nats-py raises its own `TimeoutError`, or asyncio's plain one when
            # the wait ran out before its second pull request (seen on a busy machine).
            return []
        except nats.errors.Error as error:
            log.warning("fetching %ss from %s failed: %s", self.what, self.stream, error)
        except Exception:
            log.exception("fetching %ss from %s failed unexpectedly", self.what, self.stream)
        await asyncio.sleep(_FETCH_FAILED_PAUSE_SECONDS)
        return []

    async def _handle_in_slot(self, message: Msg) -> None:
        try:
            await self._handle_logged(message)
        finally:
            self._slots.release()

    async def _handle_logged(self, message: Msg) -> None:
        try:
            await self._handle(message)
        except Exception:
            log.exception("a %s failed unexpectedly; it will be delivered again", self.what)

    async def _handle(self, message: Msg) -> None:
        try:
            item = decode(self.contract, message.data)
        except InvalidMessage as error:
            log.error("terminating a %s that does not match its contract: %s", self.what, error.details)
            await message.term()
            return
        number = message.metadata.num_delivered or 1
        delivery = Delivery(number=number, is_last=number >= self.max_deliver)
        alive = asyncio.create_task(self._keep_alive(message))
        try:
            await self.handler(item, delivery)
        except Redeliver as error:
            await self._again(message, delivery, str(error))
            return
        except Exception as error:
            # A bug in the handler: logged with its traceback, then handled like a Redeliver, so
            # the message neither waits out the ack timer nor lingers after its last delivery.
            log.exception("a %s failed unexpectedly", self.what)
            await self._again(message, delivery, f"{type(error).__name__}: {error}")
            return
        finally:
            alive.cancel()
        await message.ack_sync()

    async def _again(self, message: Msg, delivery: Delivery, reason: str) -> None:
        """Deliver the message again after its backoff delay, or terminate it after its last delivery."""
        if delivery.is_last:
            log.error("%s; giving up after %d deliveries", reason, delivery.number)
            await message.term()
            return
        delay = self.backoff_seconds[min(delivery.number, len(self.backoff_seconds)) - 1]
        log.warning("%s; delivery %d, again in %.0fs", reason, delivery.number, delay)
        await message.nak(delay=delay)

    async def _keep_alive(self, message: Msg) -> None:
        # Reset JetStream's ack timer well before it runs out, for as long as the handler works.
        while True:
            await asyncio.sleep(self.ack_wait_seconds / 3)
            with contextlib.suppress(nats.errors.Error):
                await message.in_progress()
