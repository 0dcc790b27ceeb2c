"""The publishers on the bus: space events into `SPACE_EVENTS` (deduplicated by `<spaceId>:<seq>`),
generation jobs into `GEN_JOBS` and chat turns into `CHAT` (each deduplicated by its id)."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import nats.errors
from nats.js.api import PubAck

from makefx_bus import MSG_ID_HEADER, Bus
from makefx_bus.codec import encode
from makefx_bus.headers import trace_headers
from makefx_contracts import FxError
from makefx_contracts.chat import ChatTurn
from makefx_contracts.events import SpaceEvent
from makefx_contracts.generation import GenerationJob
from makefx_space_state.errors import PublishFailed


class BusEventPublisher:
    """`EventPublisher` on the bus's JetStream context: a command's events are sent one after another, then
    their acks awaited together; any failure to get an ack becomes `PublishFailed` naming how many of the
    first were stored.

    `Bus.persist` awaits each ack before the next send: five events in a row cost five round trips under
    the space's lock, which capped one space near 100 generations a second. Sent together they still
    reach the stream in order (one connection, one stream leader, each message handled in turn), and an
    event is counted stored only when it and every event before it were acknowledged.
    """

    def __init__(self, bus: Bus, *, ack_timeout: float = 5.0) -> None:
        self.bus = bus
        self.ack_timeout = ack_timeout  # JetStream's own default for one publish

    async def publish(self, event: SpaceEvent) -> None:
        await self.publish_all([event])

    async def publish_all(self, events: Sequence[SpaceEvent]) -> None:
        acks: list[asyncio.Future[PubAck]] = []
        stored = 0
        try:
            js = self.bus.js
            for event in events:
                headers = trace_headers() | {MSG_ID_HEADER: f"{event.space_id}:{event.seq}"}
                acks.append(await js.publish_async(event.address(), encode(event), headers=headers))
            async with asyncio.timeout(self.ack_timeout):
                for ack in acks:
                    await ack
                    stored += 1
        except (TimeoutError, nats.errors.Error, FxError, OSError) as error:
            for ack in acks[stored:]:
                ack.cancel()  # no one waits for them any more; a late ack of a stored one changes nothing
            raise PublishFailed(f"{type(error).__name__}: {error}", stored=stored) from error


class BusJobPublisher:
    """`JobPublisher` through `Bus.persist` on `fx.gen.jobs.<mediaKind>`, deduplicated by `<variantId>:<attempt>`."""

    def __init__(self, bus: Bus) -> None:
        self.bus = bus

    async def publish_job(self, job: GenerationJob) -> None:
        try:
            await self.bus.persist(job, msg_id=job.id)
        except (TimeoutError, nats.errors.Error, FxError, OSError) as error:
            raise PublishFailed(f"{type(error).__name__}: {error}") from error


class BusTurnPublisher:
    """`TurnPublisher` through `Bus.persist` on `fx.chat.requests`, deduplicated by the message id."""

    def __init__(self, bus: Bus) -> None:
        self.bus = bus

    async def publish_turn(self, turn: ChatTurn) -> None:
        try:
            await self.bus.persist(turn, msg_id=turn.id)
        except (TimeoutError, nats.errors.Error, FxError, OSError) as error:
            raise PublishFailed(f"{type(error).__name__}: {error}") from error
