"""The work-queue consumer on a real nats-server: delivery, concurrency, keep-alive, redelivery, last delivery, stop.

Each test has a work-queue stream of its own. What the consumer tells JetStream (`+ACK`,
`-NAK {"delay": …}`, `+WPI`, `+TERM`) is read from the acks' own subjects, where a plain
subscriber sees them as the server does.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import ClassVar, Literal

import nats
import pytest
from nats.aio.client import Client as NatsClient
from nats.aio.msg import Msg
from nats.js.api import RetentionPolicy, StreamConfig
from pydantic import TypeAdapter

from makefx_bus import Bus, Delivery, Redeliver, WorkQueueConsumer
from makefx_contracts import Message, Subject
from makefx_settings import ServiceSettings


class Chore(Message):
    type: Literal["test:chore"] = "test:chore"
    subject: ClassVar[Subject] = Subject("fx.test.chores.{queue}")
    name: str


_CHORE = TypeAdapter(Chore)


@dataclass
class Seen:
    """What happened, in order, with a way to wait until something has."""

    items: list[tuple[str, Delivery]] = field(default_factory=list)
    acks: list[bytes] = field(default_factory=list)
    _changed: asyncio.Condition = field(default_factory=asyncio.Condition)

    async def note(self, add: Callable[[], None]) -> None:
        async with self._changed:
            add()
            self._changed.notify_all()

    async def until(self, holds: Callable[[], bool], timeout: float = 20) -> None:
        async with asyncio.timeout(timeout), self._changed:
            await self._changed.wait_for(holds)

    def replies(self, kind: bytes) -> list[bytes]:
        return [ack for ack in self.acks if ack.startswith(kind)]


@dataclass
class Queue:
    """A work-queue stream of the test's own, a bus to publish to it and a watch on the acks of its messages."""

    bus: Bus
    watcher: NatsClient
    stream: str
    subject: str
    seen: Seen
    consumers: list[WorkQueueConsumer[Chore]] = field(default_factory=list)

    async def put(self, *names: str) -> None:
        for name in names:
            await self.bus.persist(Chore(name=name), msg_id=uuid.uuid4().hex, subject=self.subject)

    def consumer(self, handler: Callable[[Chore, Delivery], Awaitable[None]], **options: object) -> WorkQueueConsumer:
        settings: dict[str, object] = {
            "contract": _CHORE,
            "stream": self.stream,
            "subject": self.subject,
            "durable": "workers",
            "concurrency": 4,
            "ack_wait_seconds": 5.0,
            "max_deliver": 5,
            "backoff_seconds": (0.1,),
            "what": "chore",
        }
        consumer = WorkQueueConsumer(self.bus, handler, **(settings | options))  # type: ignore[arg-type]
        self.consumers.append(consumer)
        return consumer

    async def left(self) -> int:
        return (await self.bus.js.stream_info(self.stream)).state.messages

    async def drained(self, timeout: float = 30) -> None:
        """Until the stream holds no message: the server removes acknowledged ones on its own time."""
        async with asyncio.timeout(timeout):
            while await self.left():  # noqa: ASYNC110 - the server has no event for it
                await asyncio.sleep(0.02)


@pytest.fixture
async def queue(nats_server) -> AsyncIterator[Queue]:
    token = uuid.uuid4().hex[:10]
    stream = f"TEST_CHORES_{token}"
    subject = Chore.subject.fill(queue=token)
    bus = Bus(ServiceSettings(nats_url=nats_server.url, service_name="consumer-tests"))
    await bus.start()
    await bus.js.add_stream(StreamConfig(name=stream, subjects=[subject], retention=RetentionPolicy.WORK_QUEUE))
    seen = Seen()
    watcher = await nats.connect(nats_server.url)

    async def on_ack(message: Msg) -> None:
        # An empty body is an ack (`ack_sync` sends one).
        await seen.note(lambda: seen.acks.append(message.data or b"+ACK"))

    await watcher.subscribe(f"$JS.ACK.{stream}.>", cb=on_ack)
    await watcher.flush()
    running = Queue(bus, watcher, stream, subject, seen)
    try:
        yield running
    finally:
        for consumer in running.consumers:
            await consumer.stop()
        await watcher.close()
        await bus.js.delete_stream(stream)
        await bus.stop()


async def test_every_message_is_handled_once_and_acknowledged(queue: Queue):
    async def handle(chore: Chore, delivery: Delivery) -> None:
        await queue.seen.note(lambda: queue.seen.items.append((chore.name, delivery)))

    await queue.put("sweep", "dust", "mop")
    consumer = queue.consumer(handle)
    await consumer.start()

    await queue.seen.until(lambda: len(queue.seen.replies(b"+ACK")) == 3)
    assert consumer.is_consuming
    assert sorted(name for name, _ in queue.seen.items) == ["dust", "mop", "sweep"]
    assert {delivery for _, delivery in queue.seen.items} == {Delivery(number=1, is_last=False)}
    await queue.drained()


async def test_no_more_messages_than_the_concurrency_are_handled_at_once(queue: Queue):
    active: set[str] = set()
    most = 0
    release = asyncio.Event()

    async def handle(chore: Chore, delivery: Delivery) -> None:
        nonlocal most
        active.add(chore.name)
        most = max(most, len(active))
        await queue.seen.note(lambda: queue.seen.items.append((chore.name, delivery)))
        await release.wait()
        active.discard(chore.name)

    await queue.put(*(f"chore-{n}" for n in range(6)))
    consumer = queue.consumer(handle, concurrency=2)
    await consumer.start()

    await queue.seen.until(lambda: len(queue.seen.items) == 2)
    # Only as many messages as there are free slots are pulled: the others still wait on the server.
    info = await queue.bus.js.consumer_info(queue.stream, "workers")
    assert (info.num_ack_pending, info.num_pending) == (2, 4)
    release.set()
    await queue.seen.until(lambda: len(queue.seen.replies(b"+ACK")) == 6)
    assert most == 2
    assert sorted(name for name, _ in queue.seen.items) == [f"chore-{n}" for n in range(6)]


async def test_with_concurrency_one_a_fetched_batch_is_handled_one_after_the_other_in_stream_order(queue: Queue):
    active = 0
    most = 0

    async def handle(chore: Chore, delivery: Delivery) -> None:
        nonlocal active, most
        active += 1
        most = max(most, active)
        await asyncio.sleep(0)  # a handler that yields: the next one must still wait for it
        await queue.seen.note(lambda: queue.seen.items.append((chore.name, delivery)))
        active -= 1

    names = [f"chore-{n}" for n in range(7)]
    await queue.put(*names)
    consumer = queue.consumer(handle, concurrency=1, batch=3)
    await consumer.start()

    await queue.seen.until(lambda: len(queue.seen.replies(b"+ACK")) == 7)
    assert [name for name, _ in queue.seen.items] == names
    assert most == 1


async def test_a_slow_message_is_kept_alive_past_the_ack_wait_and_delivered_once(queue: Queue):
    release = asyncio.Event()

    async def handle(chore: Chore, delivery: Delivery) -> None:
        await queue.seen.note(lambda: queue.seen.items.append((chore.name, delivery)))
        await release.wait()

    await queue.put("paint the fence")
    consumer = queue.consumer(handle, ack_wait_seconds=1.0)
    await consumer.start()

    # Six keep-alives, one every third of the ack wait: twice the ack wait has gone by.
    await queue.seen.until(lambda: len(queue.seen.replies(b"+WPI")) >= 6)
    release.set()
    await queue.seen.until(lambda: len(queue.seen.replies(b"+ACK")) == 1)
    assert queue.seen.items == [("paint the fence", Delivery(number=1, is_last=False))]
    await queue.drained()


async def test_redeliver_hands_the_message_back_with_the_backoff_delay_and_it_comes_again(queue: Queue):
    async def handle(chore: Chore, delivery: Delivery) -> None:
        await queue.seen.note(lambda: queue.seen.items.append((chore.name, delivery)))
        if delivery.number < 3:
            raise Redeliver(f"chore {chore.name}: the bucket is missing")

    await queue.put("wash")
    consumer = queue.consumer(handle, backoff_seconds=(0.1, 0.3))
    await consumer.start()

    await queue.seen.until(lambda: len(queue.seen.replies(b"+ACK")) == 1)
    assert [delivery.number for _, delivery in queue.seen.items] == [1, 2, 3]
    naks = [json.loads(nak.removeprefix(b"-NAK")) for nak in queue.seen.replies(b"-NAK")]
    assert naks == [{"delay": 100_000_000}, {"delay": 300_000_000}]
    await queue.drained()


async def test_redeliver_on_the_last_delivery_terminates_the_message(queue: Queue):
    async def handle(chore: Chore, delivery: Delivery) -> None:
        await queue.seen.note(lambda: queue.seen.items.append((chore.name, delivery)))
        raise Redeliver(f"chore {chore.name}: never possible")

    await queue.put("lift the house")
    consumer = queue.consumer(handle, max_deliver=2)
    await consumer.start()

    await queue.seen.until(lambda: len(queue.seen.replies(b"+TERM")) == 1)
    assert queue.seen.items == [
        ("lift the house", Delivery(number=1, is_last=False)),
        ("lift the house", Delivery(number=2, is_last=True)),
    ]
    assert len(queue.seen.replies(b"-NAK")) == 1


async def test_a_handler_bug_is_delivered_again_after_the_backoff_and_terminated_after_the_last_delivery(
    queue: Queue,
):
    async def handle(chore: Chore, delivery: Delivery) -> None:
        await queue.seen.note(lambda: queue.seen.items.append((chore.name, delivery)))
        raise KeyError("a bug")

    await queue.put("sweep")
    consumer = queue.consumer(handle, max_deliver=3, backoff_seconds=(0.1, 0.2))
    await consumer.start()

    await queue.seen.until(lambda: len(queue.seen.replies(b"+TERM")) == 1)
    assert [delivery.number for _, delivery in queue.seen.items] == [1, 2, 3]
    naks = [json.loads(nak.removeprefix(b"-NAK")) for nak in queue.seen.replies(b"-NAK")]
    assert naks == [{"delay": 100_000_000}, {"delay": 200_000_000}]
    await queue.drained()


async def test_a_message_that_breaks_the_contract_is_terminated_without_reaching_the_handler(queue: Queue):
    async def handle(chore: Chore, delivery: Delivery) -> None:
        await queue.seen.note(lambda: queue.seen.items.append((chore.name, delivery)))

    await queue.bus.js.publish(queue.subject, b'{"type": "test:chore"}')
    await queue.put("fold")
    consumer = queue.consumer(handle, concurrency=1)
    await consumer.start()

    await queue.seen.until(lambda: len(queue.seen.replies(b"+ACK")) == 1)
    assert queue.seen.replies(b"+TERM") == [b"+TERM"]
    assert [name for name, _ in queue.seen.items] == ["fold"]


async def test_stop_abandons_the_message_in_flight_and_another_consumer_gets_it_again(queue: Queue):
    cancelled = asyncio.Event()

    async def hold(chore: Chore, delivery: Delivery) -> None:
        await queue.seen.note(lambda: queue.seen.items.append((chore.name, delivery)))
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            cancelled.set()
            raise

    async def finish(chore: Chore, delivery: Delivery) -> None:
        await queue.seen.note(lambda: queue.seen.items.append((chore.name, delivery)))

    await queue.put("iron")
    first = queue.consumer(hold, ack_wait_seconds=1.0)
    await first.start()
    await queue.seen.until(lambda: len(queue.seen.items) == 1)

    await first.stop()

    assert cancelled.is_set() and not first.is_consuming
    assert [ack for ack in queue.seen.acks if ack != b"+WPI"] == []
    second = queue.consumer(finish, ack_wait_seconds=1.0)
    await second.start()
    await queue.seen.until(lambda: len(queue.seen.replies(b"+ACK")) == 1)
    [(_, abandoned), (name, again)] = queue.seen.items
    assert (name, abandoned.number) == ("iron", 1) and again.number > 1


@pytest.mark.parametrize("concurrency", [1, 4])
@pytest.mark.parametrize(
    "failure",
    [TimeoutError(), nats.errors.ConnectionClosedError(), RuntimeError("a bug in the client")],
    ids=["asyncio-timeout", "nats-error", "unexpected"],
)
async def test_a_failed_fetch_leaves_the_consumer_pulling(
    queue: Queue, monkeypatch: pytest.MonkeyPatch, failure: Exception, concurrency: int
):
    """nats-py's fetch raises asyncio's own `TimeoutError` when its wait ran out before its second pull
    request (a busy machine): the consumer must keep pulling, not die silently with the work left queued."""
    fetch = nats.js.JetStreamContext.PullSubscription.fetch
    failures = [failure, failure]

    async def failing_fetch(self, *args, **kwargs):
        if failures:
            raise failures.pop()
        return await fetch(self, *args, **kwargs)

    monkeypatch.setattr(nats.js.JetStreamContext.PullSubscription, "fetch", failing_fetch)

    async def handle(chore: Chore, delivery: Delivery) -> None:
        await queue.seen.note(lambda: queue.seen.items.append((chore.name, delivery)))

    consumer = queue.consumer(handle, concurrency=concurrency)
    await consumer.start()
    await queue.put("after the failures")
    await queue.seen.until(lambda: len(queue.seen.replies(b"+ACK")) == 1)
    assert not failures and consumer.is_consuming
    assert [name for name, _ in queue.seen.items] == ["after the failures"]


@pytest.mark.parametrize("concurrency", [1, 4])
async def test_stop_ends_the_consumer_even_when_a_fetch_swallows_its_cancel(
    queue: Queue, monkeypatch: pytest.MonkeyPatch, concurrency: int
):
    """On Python 3.11 `asyncio.wait_for`, which nats-py's fetch waits with, returns a message that arrives
    as it is cancelled instead of raising: the cancel is lost, and a pull loop relying on it alone never ends
    (a service's shutdown then hangs)."""
    fetching = asyncio.Event()

    async def deaf_fetch(self, *args, **kwargs):
        fetching.set()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.sleep(0.2)
        return []

    monkeypatch.setattr(nats.js.JetStreamContext.PullSubscription, "fetch", deaf_fetch)

    async def handle(chore: Chore, delivery: Delivery) -> None:
        raise AssertionError("nothing is fetched")

    consumer = queue.consumer(handle, concurrency=concurrency)
    await consumer.start()
    await fetching.wait()
    async with asyncio.timeout(10):
        await consumer.stop()
    assert not consumer.is_consuming
