"""The KeyValue helpers on a real nats-server: above all, a watch's replay holds every key."""

from __future__ import annotations

import pytest
from nats.js.api import KeyValueConfig
from nats.js.kv import KeyValue

from makefx_router._kv import replayed_entries

KEYS = 300


class _EndSignalledFirst:
    """A nats-py watcher as it sometimes behaves: the end-of-replay None comes before any entry."""

    def __init__(self, watcher: KeyValue.KeyWatcher) -> None:
        self._watcher = watcher
        self._signalled = False

    async def updates(self, timeout: float = 5.0) -> KeyValue.Entry | None:
        if not self._signalled:
            self._signalled = True
            return None
        while (entry := await self._watcher.updates(timeout=timeout)) is None:
            pass  # the real marker, already "sent" above
        return entry


@pytest.fixture
async def bucket(cluster) -> KeyValue:
    bus = await cluster.bus("kv-tests")
    kv = await bus.js.create_key_value(KeyValueConfig(bucket="kv_tests", history=1))
    for number in range(KEYS):
        await kv.put(f"key-{number}", b"value")
    await kv.delete("key-0")
    return kv


async def test_a_replay_holds_every_key_and_delete_in_order(bucket) -> None:
    for _ in range(50):  # nats-py ends about 1 replay in 100 early: each of these must still be whole
        watcher = await bucket.watchall()
        try:
            entries = await replayed_entries(bucket, watcher, timeout=5)
        finally:
            await watcher.stop()
        assert [entry.key for entry in entries] == [f"key-{number}" for number in range(1, KEYS)] + ["key-0"]


async def test_a_replay_whose_end_is_signalled_before_its_entries_still_holds_them_all(bucket) -> None:
    watcher = await bucket.watchall()
    try:
        entries = await replayed_entries(bucket, _EndSignalledFirst(watcher), timeout=5)
    finally:
        await watcher.stop()
    assert len(entries) == KEYS and entries[-1].delta == 0


async def test_an_empty_bucket_replays_nothing_at_once(cluster) -> None:
    bus = await cluster.bus("kv-tests")
    empty = await bus.js.create_key_value(KeyValueConfig(bucket="kv_empty", history=1))
    watcher = await empty.watchall()
    try:
        assert await replayed_entries(empty, _EndSignalledFirst(watcher), timeout=5) == []
    finally:
        await watcher.stop()
