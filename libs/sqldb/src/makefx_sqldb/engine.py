"""An async SQLAlchemy engine: PostgreSQL as it is, SQLite tuned for one process with many tasks."""

from __future__ import annotations

import sqlite3
import time
from typing import Any, Literal

from sqlalchemy import event
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

WRITE = "makefx_write"
"""Execution option of a transaction that writes: on SQLite it takes the write lock at BEGIN."""

_SQLITE_BUSY_TIMEOUT_MS = 30_000


def create_engine(url: str, *, sqlite_synchronous: Literal["NORMAL", "FULL"] = "NORMAL") -> AsyncEngine:
    """An async engine; on SQLite with WAL, foreign keys on, and write transactions taking the lock first.

    `sqlite_synchronous="FULL"` when a commit is acknowledged to someone else at once (billing
    acks JetStream right after it); NORMAL survives any process crash, not a power loss.
    """
    if make_url(url).get_backend_name() != "sqlite":
        return create_async_engine(url, pool_pre_ping=True)
    engine = create_async_engine(url, connect_args={"timeout": _SQLITE_BUSY_TIMEOUT_MS / 1000})

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let us, not the driver, say when a transaction begins (see _on_begin).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        _enable_wal(cursor)
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={_SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute(f"PRAGMA synchronous={sqlite_synchronous}")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Connection) -> None:
        # A write transaction takes SQLite's write lock at BEGIN, so its reads and writes
        # are one atomic step and two writers queue instead of failing with "database is
        # locked" mid-way. Readers stay DEFERRED and, under WAL, never wait for writers.
        immediate = connection.get_execution_options().get(WRITE, False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


def _enable_wal(cursor: Any) -> None:
    """Switch the file to WAL (a property of the file, kept once set).

    The switch needs the file to itself, and SQLite refuses it at once ("database is
    locked"), without its busy handler, while another connection holds a lock — as when
    several processes open a new database together. Only then does this wait and try again.
    """
    deadline = time.monotonic() + _SQLITE_BUSY_TIMEOUT_MS / 1000
    while True:
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as error:
            if "locked" not in str(error) or time.monotonic() > deadline:
                raise
        time.sleep(0.01)  # connecting only; the other connection holds the file for milliseconds
