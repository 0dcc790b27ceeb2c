"""Full states read once and handed out in parts, so a large space crosses the bus under NATS's 1 MB.

A read is kept for `ttl_seconds` under a fresh snapshot id; later parts of the same read
come from memory, so every part belongs to one consistent state at one seq.
"""

from __future__ import annotations

import time
import uuid
from collections import OrderedDict
from dataclasses import dataclass

from makefx_contracts.errors import NotFound
from makefx_contracts.space import SpaceStatePart

# Characters of JSON per part: with escaping, a part stays far below 1 MB on the wire.
PART_CHARS = 256 * 1024


@dataclass(frozen=True)
class _Read:
    space_id: str
    seq: int
    body: str
    expires_at: float

    @property
    def parts(self) -> int:
        return max(1, -(-len(self.body) // PART_CHARS))

    def part(self, snapshot_id: str, index: int) -> SpaceStatePart:
        if index >= self.parts:
            raise NotFound(f"this state has {self.parts} parts", details={"part": index})
        body = self.body[index * PART_CHARS : (index + 1) * PART_CHARS]
        return SpaceStatePart(
            space_id=self.space_id, seq=self.seq, snapshot_id=snapshot_id, part=index, parts=self.parts, body=body
        )


class StateParts:
    def __init__(self, *, ttl_seconds: float = 30.0, keep: int = 8) -> None:
        self.ttl_seconds = ttl_seconds
        self.keep = keep
        self._reads: OrderedDict[str, _Read] = OrderedDict()

    def first(self, space_id: str, seq: int, body: bytes) -> SpaceStatePart:
        read = _Read(space_id, seq, body.decode(), time.monotonic() + self.ttl_seconds)
        snapshot_id = uuid.uuid4().hex
        if read.parts > 1:  # a single part is never asked for again
            self._forget_expired()
            self._reads[snapshot_id] = read
            while len(self._reads) > self.keep:
                self._reads.popitem(last=False)
        return read.part(snapshot_id, 0)

    def part(self, space_id: str, snapshot_id: str, index: int) -> SpaceStatePart:
        self._forget_expired()
        read = self._reads.get(snapshot_id)
        if read is None or read.space_id != space_id:
            raise NotFound("that state read has expired: start again from part 0", details={"snapshotId": snapshot_id})
        return read.part(snapshot_id, index)

    def _forget_expired(self) -> None:
        now = time.monotonic()
        for snapshot_id, read in list(self._reads.items()):
            if read.expires_at <= now:
                del self._reads[snapshot_id]
