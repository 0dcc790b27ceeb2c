"""A space's committed events as the `SPACE_EVENTS` stream holds them, for a replica catching up.

A replica taking a space over already has it up to some seq (its own copy, or a snapshot
from the archive) and needs only the events after it. Reading the space's subject from
the start of the stream costs every event it ever had (measured: 150 ms to skip 4,990
events for 10 new ones), so when there are many to skip the reader first finds where
the new ones start: stream positions of one subject grow with its seq, so a bisection
over the stream with "next message of this subject at or after" lookups finds it in
~log2(stream length) requests.

The stream is in seq order for a space except in one case: an owner sends a command's
events together, and should the stream refuse one while storing the next (a leader change
in a cluster), the refused one is republished after it. So the reader never trusts
positions alone: it reads to the subject's end, orders what it read by seq, drops repeats,
and when the result is not exactly the seqs after the copy it reads from the start.
"""

from __future__ import annotations

from nats.js.api import ConsumerConfig, DeliverPolicy, RawStreamMsg
from nats.js.errors import NotFoundError
from pydantic import TypeAdapter

from makefx_bus import MSG_ID_HEADER, Bus
from makefx_contracts.events import SpaceEvent
from makefx_contracts.subjects import SPACE_EVENTS, STREAM_SPACE_EVENTS

_EVENT: TypeAdapter[SpaceEvent] = TypeAdapter(SpaceEvent)

# Below this many events to skip, reading them is cheaper than bisecting (~20 lookups).
_BISECT_FROM = 256


def _seq_of(headers: dict[str, str] | None) -> int:
    return int((headers or {}).get(MSG_ID_HEADER, "0").rpartition(":")[2] or 0)


class SpaceHistory:
    def __init__(self, bus: Bus, *, timeout: float = 10.0) -> None:
        self.bus = bus
        self.timeout = timeout

    async def last_seq(self, space_id: str) -> int:
        """The seq of the last event stored for the space (0 when none); see the module's note on order."""
        last = await self._last(space_id)
        return _seq_of(last.headers) if last is not None else 0

    async def events_after(self, space_id: str, seq: int) -> list[SpaceEvent]:
        """Every event after `seq`, in seq order without repeats; empty (one request) when the stream has none."""
        last = await self._last(space_id)
        if last is None or _seq_of(last.headers) <= seq:
            # Nothing newer. Safe despite reordering: it only happens inside one command's events,
            # and a copy (a replica's own, or a snapshot) always ends at a command's last event.
            return []
        if seq >= _BISECT_FROM:
            start = await self._position_after(space_id, seq, last.seq)
            events = await self._read(space_id, seq, start)
            if _follows(events, seq):
                return events
        return await self._read(space_id, seq, None)

    async def _last(self, space_id: str) -> RawStreamMsg | None:
        try:
            return await self.bus.js.get_last_msg(STREAM_SPACE_EVENTS, SPACE_EVENTS.fill(space_id=space_id))
        except NotFoundError:
            return None

    async def _position_after(self, space_id: str, seq: int, newest_position: int) -> int:
        """A stream position at or before the space's first event after `seq`, and after every event up to it."""
        subject = SPACE_EVENTS.fill(space_id=space_id)
        low, high = 1, newest_position  # the newest event (at `high`) is after `seq`
        while low < high:
            middle = (low + high) // 2
            try:
                found = await self.bus.js.get_msg(STREAM_SPACE_EVENTS, seq=middle, subject=subject, next=True)
            except NotFoundError:
                return low  # the stream changed under us (purged); let the read sort it out
            if _seq_of(found.headers) > seq:
                high = middle
            else:
                low = found.seq + 1
        return low

    async def _read(self, space_id: str, seq: int, start: int | None) -> list[SpaceEvent]:
        """Events after `seq` from stream position `start` (None: the first) to the subject's end, by seq."""
        if start is None:
            config = ConsumerConfig(deliver_policy=DeliverPolicy.ALL)
        else:
            config = ConsumerConfig(deliver_policy=DeliverPolicy.BY_START_SEQUENCE, opt_start_seq=start)
        # Naming the stream saves the round trip that looks it up by subject.
        subscription = await self.bus.js.subscribe(
            SPACE_EVENTS.fill(space_id=space_id), stream=STREAM_SPACE_EVENTS, config=config, ordered_consumer=True
        )
        by_seq: dict[int, bytes] = {}
        try:
            while True:
                msg = await subscription.next_msg(timeout=self.timeout)
                event_seq = _seq_of(msg.headers)
                if event_seq > seq:
                    by_seq.setdefault(event_seq, msg.data)
                if msg.metadata.num_pending == 0:
                    return [_EVENT.validate_json(by_seq[key]) for key in sorted(by_seq)]
        finally:
            await subscription.unsubscribe()


def _follows(events: list[SpaceEvent], seq: int) -> bool:
    """Whether `events` are exactly seq+1, seq+2, … with none missing."""
    return bool(events) and all(event.seq == seq + 1 + index for index, event in enumerate(events))
