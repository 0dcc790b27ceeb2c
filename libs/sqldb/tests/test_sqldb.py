"""The shared engine and migration runner, on a real SQLite file."""

import asyncio
import sqlite3
import threading

import pytest
from sqlalchemy import text

from makefx_sqldb import Migration, SchemaTooNew, apply_migrations, create_engine


def create_notes(connection) -> None:
    connection.execute(text("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT NOT NULL)"))


V1 = (Migration(1, "notes", create_notes),)


@pytest.fixture
async def engine(tmp_path):
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'db.sqlite'}", sqlite_synchronous="FULL")
    yield engine
    await engine.dispose()


async def test_sqlite_runs_in_wal_with_the_requested_durability_and_foreign_keys(engine):
    async with engine.connect() as connection:
        pragmas = [
            (await connection.execute(text(f"PRAGMA {name}"))).scalar()
            for name in ("journal_mode", "synchronous", "foreign_keys")
        ]
    assert pragmas == ["wal", 2, 1]  # synchronous=2 is FULL


async def test_migrations_apply_once_and_a_newer_database_is_refused(engine):
    assert await apply_migrations(engine, V1, lock_key=1, database="the notes") == 1
    assert await apply_migrations(engine, V1, lock_key=1, database="the notes") == 1
    later = (*V1, Migration(2, "tags", lambda c: c.execute(text("ALTER TABLE notes ADD COLUMN tags TEXT"))))
    assert await apply_migrations(engine, later, lock_key=1, database="the notes") == 2
    with pytest.raises(SchemaTooNew, match="the notes is at schema version 2"):
        await apply_migrations(engine, V1, lock_key=1, database="the notes")


async def test_a_new_database_another_connection_holds_is_switched_to_wal_once_it_lets_go(tmp_path):
    # Several processes opening a new database together: SQLite refuses the switch to WAL at
    # once ("database is locked") while another connection holds the file.
    path = tmp_path / "new.sqlite"
    holder = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    holder.execute("CREATE TABLE held (id INTEGER)")
    holder.execute("BEGIN IMMEDIATE")  # a writer in the middle of its work (rollback journal: no WAL yet)
    holder.execute("INSERT INTO held VALUES (1)")
    let_go = threading.Event()
    releasing = threading.Thread(target=lambda: (let_go.wait(), holder.execute("COMMIT")))
    releasing.start()
    engine = create_engine(f"sqlite+aiosqlite:///{path}")
    try:
        connecting = asyncio.create_task(engine.connect().__aenter__())
        await asyncio.sleep(0.2)  # the connection is waiting for the file, not failing
        assert not connecting.done()
        let_go.set()
        connection = await connecting
        assert (await connection.execute(text("PRAGMA journal_mode"))).scalar() == "wal"
        await connection.close()
    finally:
        let_go.set()
        releasing.join()
        holder.close()
        await engine.dispose()
