"""Snapshots of space databases in object storage, so a space can move between replicas without a shared disk.

Keys are `snapshots/{spaceId}/{seq:012d}.sqlite`: the newest is the last in key order.
"""

from __future__ import annotations

from pathlib import Path

from makefx_space_state.ports import SnapshotFile
from makefx_storage import ObjectStore

_PREFIX = "snapshots"


class SnapshotArchive:
    def __init__(self, store: ObjectStore, scratch_dir: Path, *, keep: int = 3) -> None:
        self.store = store
        self.scratch_dir = scratch_dir
        self.keep = keep

    @staticmethod
    def key(space_id: str, seq: int) -> str:
        return f"{_PREFIX}/{space_id}/{seq:012d}.sqlite"

    async def put(self, snapshot: SnapshotFile) -> None:
        await self.store.put(
            self.key(snapshot.space_id, snapshot.seq), snapshot.path, content_type="application/x-sqlite3"
        )
        keys = await self._keys(snapshot.space_id)
        if len(keys) > self.keep:
            await self.store.delete_many(keys[: -self.keep])

    async def newest(self, space_id: str, *, newer_than: int) -> SnapshotFile | None:
        """Download the newest snapshot of the space if it holds more than `newer_than` events."""
        keys = await self._keys(space_id)
        if not keys:
            return None
        seq = int(keys[-1].rsplit("/", 1)[1].split(".", 1)[0])
        if seq <= newer_than:
            return None
        path = self.scratch_dir / space_id / f"{seq:012d}.sqlite"
        path.parent.mkdir(parents=True, exist_ok=True)
        async with await self.store.get(keys[-1]) as stream:
            with path.open("wb") as file:
                async for chunk in stream:
                    file.write(chunk)
        return SnapshotFile(space_id=space_id, seq=seq, path=path)

    async def _keys(self, space_id: str) -> list[str]:
        return sorted([key async for key in self.store.list_keys(f"{_PREFIX}/{space_id}/")])
