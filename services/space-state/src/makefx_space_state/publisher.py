"""The publishers on the bus: space events into `SPACE_EVENTS` (deduplicated by `<spaceId>:<seq>`),
generation jobs into `GEN_JOBS` and chat turns into `CHAT` (each deduplicated by its id)."""

from __future__ import annotations

import nats.errors

from makefx_bus import Bus
from makefx_contracts import FxError
from makefx_contracts.chat import ChatTurn
from makefx_contracts.events import SpaceEvent
from makefx_contracts.generation import GenerationJob
from makefx_space_state.errors import PublishFailed


class BusEventPublisher:
    """`EventPublisher` through `Bus.persist`; any failure to get JetStream's ack becomes `PublishFailed`."""

    def __init__(self, bus: Bus) -> None:
        self.bus = bus

    async def publish(self, event: SpaceEvent) -> None:
        try:
            await self.bus.persist(event, msg_id=f"{event.space_id}:{event.seq}")
        except (TimeoutError, nats.errors.Error, FxError, OSError) as error:
            raise PublishFailed(f"{type(error).__name__}: {error}") from error


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
