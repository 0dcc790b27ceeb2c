"""A space's committed events as the `SPACE_EVENTS` stream holds them, for a replica catching up."""

from __future__ import annotations

from nats.js.api import DeliverPolicy
from nats.js.errors import NotFoundError
from pydantic import TypeAdapter

from makefx_bus import MSG_ID_HEADER, Bus
from makefx_contracts.events import SpaceEvent
from makefx_contracts.subjects import SPACE_EVENTS, STREAM_SPACE_EVENTS

_EVENT: TypeAdapter[SpaceEvent] = TypeAdapter(SpaceEvent)


def _seq_of(headers: dict[str, str] | None) -> int:
    return int((headers or {}).get(MSG_ID_HEADER, "0").rpartition(":")[2] or 0)


class SpaceHistory:
    def __init__(self, bus: Bus, *, timeout: float = 10.0) -> None:
        self.bus = bus
        self.timeout = timeout

    async def last_seq(self, space_id: str) -> int:
        """The seq of the newest event the stream holds for the space (0 when none)."""
        try:
            last = await self.bus.js.get_last_msg(STREAM_SPACE_EVENTS, SPACE_EVENTS.fill(space_id=space_id))
        except NotFoundError:
            return 0
        return _seq_of(last.headers)

    async def events_after(self, space_id: str, seq: int) -> list[SpaceEvent]:
        """Every event after `seq`, in order; empty (one request) when there is nothing newer."""
        newest = await self.last_seq(space_id)
        if newest <= seq:
            return []
        subscription = await self.bus.js.subscribe(
            SPACE_EVENTS.fill(space_id=space_id), ordered_consumer=True, deliver_policy=DeliverPolicy.ALL
        )
        events: list[SpaceEvent] = []
        try:
            while True:
                msg = await subscription.next_msg(timeout=self.timeout)
                event_seq = _seq_of(msg.headers)
                if event_seq > seq:
                    events.append(_EVENT.validate_json(msg.data))
                if event_seq >= newest:
                    return events
        finally:
            await subscription.unsubscribe()
