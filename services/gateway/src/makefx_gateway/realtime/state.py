"""A space's full state read from its owner, in parts, as the JSON body the socket and REST send."""

from __future__ import annotations

import asyncio
import json

from makefx_contracts.space import GetSpaceState, SpaceStatePart
from makefx_router import SpaceRouter

# Parts in flight at once: enough to hide round trips, few enough to leave the replica room.
_PARALLEL_PARTS = 8


async def read_state(router: SpaceRouter, space_id: str) -> tuple[int, str]:
    """The seq and `{"assets": [...], "variants": [...], "lineage": [...]}` of one consistent read."""
    first = await router.request(space_id, GetSpaceState(space_id=space_id))
    if first.parts == 1:
        return first.seq, first.body
    slots = asyncio.Semaphore(_PARALLEL_PARTS)

    async def part(index: int) -> SpaceStatePart:
        async with slots:
            return await router.request(
                space_id, GetSpaceState(space_id=space_id, snapshot_id=first.snapshot_id, part=index)
            )

    rest = await asyncio.gather(*(part(index) for index in range(1, first.parts)))
    return first.seq, first.body + "".join(piece.body for piece in rest)


def with_fields(body: str, **fields: object) -> str:
    """`body` (a JSON object) with more fields in front: a frame built without re-parsing megabytes."""
    head = ",".join(f"{json.dumps(name)}:{json.dumps(value, separators=(',', ':'))}" for name, value in fields.items())
    return "{" + head + "," + body[1:]
