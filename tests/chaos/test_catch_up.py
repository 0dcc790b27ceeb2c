"""What a replica taking a space over reads from `SPACE_EVENTS`: exactly the events after its copy, cheaply.

Takeover time after a crash is lease + catch-up; these pin down the catch-up reader
(`SpaceHistory`) on a real nats-server, with the space's events interleaved with another
space's as they are in production, and print how long it took to find a few new events
behind a long history.
"""

from __future__ import annotations

import time
import uuid

import pytest

from makefx_bus import Bus
from makefx_contracts.events import AssetCreated, AssetUpdated
from makefx_contracts.rows import AssetRow
from makefx_space_state.history import SpaceHistory

pytestmark = pytest.mark.slow

HISTORY = 600


async def _publish_history(bus: Bus, space_ids: list[str], count: int) -> None:
    """`count` events for each space, interleaved in the stream as concurrent spaces are."""
    for seq in range(1, count + 1):
        for space_id in space_ids:
            asset = AssetRow(
                id=f"asset-{space_id[:8]}", name=f"v{seq}", type="item", created_by="usr_test", created_at=1
            )
            kind = AssetCreated if seq == 1 else AssetUpdated
            event = kind(space_id=space_id, seq=seq, at=seq, asset=asset, request_id=f"req-{seq}")
            await bus.persist(event, msg_id=f"{space_id}:{seq}")


async def test_catching_up_reads_exactly_the_events_after_the_copy_behind_a_long_history(client_bus: Bus) -> None:
    space, neighbour = uuid.uuid4().hex, uuid.uuid4().hex
    await _publish_history(client_bus, [neighbour, space], HISTORY)
    history = SpaceHistory(client_bus)

    for after in (0, 1, 255, 256, 257, HISTORY - 10, HISTORY - 2):
        events = await history.events_after(space, after)
        assert [event.seq for event in events] == list(range(after + 1, HISTORY + 1)), after
        assert {event.space_id for event in events} == {space}
    assert [event.seq for event in await history.events_after(space, HISTORY - 1)] == [HISTORY]
    assert await history.events_after(space, HISTORY) == []
    assert await history.events_after(uuid.uuid4().hex, 0) == []
    assert await history.last_seq(space) == HISTORY

    started = time.perf_counter()
    await history.events_after(space, 0)
    everything = time.perf_counter() - started
    started = time.perf_counter()
    await history.events_after(space, HISTORY - 10)
    the_last_ten = time.perf_counter() - started
    print(
        f"\ncatch-up of a space with {HISTORY} events among {2 * HISTORY}: all of them {everything * 1000:.1f} ms; "
        f"the last 10 after a copy at {HISTORY - 10}: {the_last_ten * 1000:.1f} ms"
    )


async def test_an_event_republished_after_the_next_one_is_still_read_in_seq_order(client_bus: Bus) -> None:
    # A command's events go out together; should the stream refuse one and store the next,
    # the refused one is republished after it. The reader still returns them by seq, once each.
    space = uuid.uuid4().hex

    async def put(seq: int) -> None:
        asset = AssetRow(id="asset-1", name=f"v{seq}", type="item", created_by="usr_test", created_at=1)
        kind = AssetCreated if seq == 1 else AssetUpdated
        event = kind(space_id=space, seq=seq, at=seq, asset=asset, request_id=f"req-{seq}")
        await client_bus.persist(event, msg_id=f"{space}:{seq}")

    for seq in (1, 2, 4, 5, 3, 4):  # 3 refused, then republished after 4 and 5; 4 sent twice
        await put(seq)
    history = SpaceHistory(client_bus)

    for after in (0, 1, 2):
        assert [event.seq for event in await history.events_after(space, after)] == list(range(after + 1, 6)), after
    assert await history.events_after(space, 5) == []
