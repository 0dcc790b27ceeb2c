"""The SQLite store itself: where its work runs, checkpoints, backup, closing."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from makefx_contracts.events import AssetCreated
from makefx_contracts.rows import AssetRow
from makefx_space_state.errors import SpaceClosing
from makefx_space_state.store.sqlite import SqliteSpaceStore, space_path


def _create(tx, name: str) -> int:
    seq = tx.last_seq() + 1
    asset = AssetRow(id=f"asset-{seq}", name=name, type="item", created_by="u", created_at=seq)
    tx.put_asset(asset)
    tx.append_events([AssetCreated(space_id=tx.space_id, seq=seq, at=seq, asset=asset)])
    return seq


@pytest.fixture
async def store(tmp_path):
    executor = ThreadPoolExecutor(2, thread_name_prefix="test-store")
    store = await SqliteSpaceStore.open("space-1", space_path(tmp_path, "space-1"), executor, checkpoint_every=10)
    yield store
    await store.close()
    executor.shutdown()


def test_space_files_are_sharded_by_the_first_two_characters(tmp_path):
    assert space_path(tmp_path, "abcdef") == tmp_path / "spaces" / "ab" / "abcdef.sqlite"


async def test_commands_run_on_the_loop_thread_and_long_reads_in_a_worker(store):
    threads: list[str] = []

    def work(tx) -> int:
        threads.append(threading.current_thread().name)
        return _create(tx, "x")

    await store.write(work)
    await store.write(work, in_thread=True)
    assert threads == [threading.current_thread().name, threads[1]]
    assert threads[1].startswith("test-store")
    events, first, last = await store.events_since(0, 10)
    assert [event.seq for event in events] == [1, 2] and (first, last) == (1, 2)


async def test_a_failing_transaction_leaves_nothing_behind(store):
    def fails(tx) -> None:
        _create(tx, "doomed")
        raise RuntimeError("rule broken")

    with pytest.raises(RuntimeError):
        await store.write(fails)
    assert store.last_seq == 0
    assert (await store.state())[0] == []
    assert await store.write(lambda tx: _create(tx, "next")) == 1


async def test_checkpoints_keep_the_wal_from_growing_without_bound(store, tmp_path):
    async def wal_after_300_commits(store: SqliteSpaceStore) -> int:
        for i in range(300):
            await store.write(lambda tx, i=i: _create(tx, f"a{i}"))
            if store._checkpointing is not None:
                await asyncio.wait_for(store._checkpointing, timeout=30)
        return store.path.with_name(store.path.name + "-wal").stat().st_size

    unchecked = await SqliteSpaceStore.open("space-2", space_path(tmp_path, "space-2"), checkpoint_every=10**9)
    try:
        baseline = await wal_after_300_commits(unchecked)
    finally:
        await unchecked.close()

    assert await wal_after_300_commits(store) < baseline / 4


async def test_a_backup_is_a_consistent_copy_at_the_seq_it_reports(store, tmp_path):
    for i in range(5):
        await store.write(lambda tx, i=i: _create(tx, f"a{i}"))

    seq = await store.backup(tmp_path / "copy.sqlite")

    copy = sqlite3.connect(tmp_path / "copy.sqlite")
    assert seq == 5
    assert copy.execute("SELECT count(*) FROM assets").fetchone() == (5,)
    assert copy.execute("SELECT max(seq) FROM events").fetchone() == (5,)


async def test_a_closed_store_refuses_work_as_unavailable(tmp_path):
    store = await SqliteSpaceStore.open("space-1", space_path(tmp_path, "space-1"))
    await store.close()
    await store.close()  # twice is fine
    with pytest.raises(SpaceClosing):
        await store.write(lambda tx: _create(tx, "late"))
    with pytest.raises(SpaceClosing):
        await store.state()
    assert not store.path.with_name(store.path.name + "-wal").exists()  # the last close folded the WAL in


async def test_a_savepoint_undoes_only_what_its_block_wrote(store):
    def work(tx) -> list[str]:
        _create(tx, "kept")
        with pytest.raises(ValueError), tx.savepoint():
            tx.put_asset(AssetRow(id="undone", name="undone", type="item", created_by="u", created_at=9))
            _create(tx, "undone too")
            raise ValueError("refused")
        with tx.savepoint():
            tx.put_asset(AssetRow(id="nested-ok", name="ok", type="item", created_by="u", created_at=9))
        _create(tx, "after")
        return [asset.name for asset in (tx.asset("asset-1"), tx.asset("asset-2"), tx.asset("nested-ok")) if asset]

    names = await store.write(work)

    assert names == ["kept", "after", "ok"]
    assert store.last_seq == 2
    assert [asset.name for asset in (await store.state())[0]] == ["kept", "ok", "after"]
