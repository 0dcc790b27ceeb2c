"""The space store on SQLite: one file per space, WAL; commands written inline, long reads in a thread."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import sqlite3
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Executor
from pathlib import Path
from typing import Any, TypeVar

from makefx_contracts.errors import InvalidState, ValidationFailed
from makefx_contracts.events import SpaceEvent
from makefx_contracts.rows import ApprovalRow, ApprovalStatus, AssetRow, ChatMessageRow, LineageRow, VariantRow
from makefx_space_state.errors import SpaceClosing
from makefx_space_state.ports import SpaceTx, StoredEvent
from makefx_space_state.store import schema
from makefx_space_state.store.rows import (
    APPROVAL_COLUMNS,
    ASSET_COLUMNS,
    CHAT_MESSAGE_COLUMNS,
    LINEAGE_COLUMNS,
    VARIANT_COLUMNS,
    build_all,
    build_approval,
    build_asset,
    build_chat_message,
    build_lineage,
    build_variant,
    values_of,
)

T = TypeVar("T")

log = logging.getLogger(__name__)

_META_SPACE_ID = "space_id"
_META_PUBLISHED_SEQ = "published_seq"


def _upsert(table: str, columns: tuple[str, ...]) -> str:
    updates = ", ".join(f"{name} = excluded.{name}" for name in columns if name != "id")
    return (
        f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))}) "
        f"ON CONFLICT (id) DO UPDATE SET {updates}"
    )


def _json_object(columns: tuple[str, ...], alias: str) -> str:
    return "json_object(" + ", ".join(f"'{name}', {alias}.{name}" for name in columns) + ")"


_ASSET_SELECT = f"SELECT {', '.join(ASSET_COLUMNS)} FROM assets"
_VARIANT_SELECT = f"SELECT {', '.join(VARIANT_COLUMNS)} FROM variants"
_LINEAGE_SELECT = f"SELECT {', '.join(LINEAGE_COLUMNS)} FROM lineage"
_PUT_ASSET = _upsert("assets", ASSET_COLUMNS)
_PUT_VARIANT = _upsert("variants", VARIANT_COLUMNS)
_CHAT_SELECT = f"SELECT {', '.join(CHAT_MESSAGE_COLUMNS)} FROM chat_messages"
_APPROVAL_SELECT = f"SELECT {', '.join(APPROVAL_COLUMNS)} FROM approvals"
_PUT_CHAT_MESSAGE = _upsert("chat_messages", CHAT_MESSAGE_COLUMNS)  # an upsert keeps the rowid: the order stays
_PUT_APPROVAL = _upsert("approvals", APPROVAL_COLUMNS)
_NEWEST_FIRST = "ORDER BY created_at DESC, rowid DESC"
_SAVE_PUBLISHED_SEQ = (
    "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value"
)
_INSERT_LINEAGE = f"INSERT INTO lineage ({', '.join(LINEAGE_COLUMNS)}) VALUES ({', '.join('?' * len(LINEAGE_COLUMNS))})"

# The full state: live assets (in creation order), their variants (grouped by asset, oldest
# first, straight from the `variants_by_asset` index: no sort) and the lineage whose both
# ends are among those variants. The same order for the models and for the JSON.
_LIVE_VARIANTS = "FROM assets a JOIN variants v ON v.asset_id = a.id WHERE a.deleted_at IS NULL"
_LIVE_LINEAGE = (
    "FROM lineage l JOIN variants pv ON pv.id = l.parent_variant_id JOIN assets pa ON pa.id = pv.asset_id "
    "JOIN variants cv ON cv.id = l.child_variant_id JOIN assets ca ON ca.id = cv.asset_id "
    "WHERE pa.deleted_at IS NULL AND ca.deleted_at IS NULL"
)
_STATE_ASSETS = f"{_ASSET_SELECT} WHERE deleted_at IS NULL ORDER BY rowid"
_STATE_VARIANTS = (
    f"SELECT {', '.join('v.' + name for name in VARIANT_COLUMNS)} {_LIVE_VARIANTS} ORDER BY a.rowid, v.created_at"
)
_STATE_LINEAGE = f"SELECT {', '.join('l.' + name for name in LINEAGE_COLUMNS)} {_LIVE_LINEAGE} ORDER BY l.rowid"
# The same, as the wire JSON of the rows, built by SQLite without a Python object per value.
_STATE_JSON = f"""
SELECT
  (SELECT '[' || coalesce(group_concat(row, ','), '') || ']' FROM (
     SELECT {_json_object(ASSET_COLUMNS, "a")} AS row FROM assets a WHERE a.deleted_at IS NULL ORDER BY a.rowid)),
  (SELECT '[' || coalesce(group_concat(row, ','), '') || ']' FROM (
     SELECT {_json_object(VARIANT_COLUMNS, "v")} AS row {_LIVE_VARIANTS} ORDER BY a.rowid, v.created_at)),
  (SELECT '[' || coalesce(group_concat(row, ','), '') || ']' FROM (
     SELECT {_json_object(LINEAGE_COLUMNS, "l")} AS row {_LIVE_LINEAGE} ORDER BY l.rowid))
"""


def space_path(data_dir: Path, space_id: str) -> Path:
    """`<data_dir>/spaces/<first 2 chars>/<spaceId>.sqlite` (the id is checked to be one safe token first)."""
    return Path(data_dir) / "spaces" / space_id[:2] / f"{space_id}.sqlite"


def connect(path: Path) -> sqlite3.Connection:
    """A connection set up as every space database is used: WAL, synchronous=NORMAL, foreign keys on.

    WAL with synchronous=NORMAL never loses a committed transaction to a process crash (the
    WAL is in the OS before COMMIT returns); a power loss can drop the last commits, which
    are also in JetStream's `SPACE_EVENTS` (docs: the space database decision).
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    connection = sqlite3.connect(path, isolation_level=None, check_same_thread=False, cached_statements=256)
    connection.execute("PRAGMA journal_mode = WAL")
    connection.execute("PRAGMA synchronous = NORMAL")
    connection.execute("PRAGMA foreign_keys = ON")
    connection.execute("PRAGMA busy_timeout = 5000")
    connection.execute("PRAGMA temp_store = MEMORY")
    return connection


class SqliteSpaceStore:
    """`SpaceStore` on one SQLite file, through two connections. Open with `await SqliteSpaceStore.open(...)`.

    The *writer* runs each command's transaction inline on the event loop. A command's
    transaction is about 100 µs of SQLite work and never waits on the disk (WAL,
    synchronous=NORMAL, automatic checkpoints off); handing it to a thread cost more than
    the work itself (a hop, then the worker and the loop contending for the GIL).
    The *reader* works in a thread of the shared pool on what can take long: full-state
    reads, event pages, the online backup and the WAL checkpoints — the only fsyncs — so
    none of them stalls the loop or the writer (WAL readers never block the writer).
    """

    def __init__(
        self,
        space_id: str,
        path: Path,
        writer: sqlite3.Connection,
        reader: sqlite3.Connection,
        executor: Executor | None,
        checkpoint_every: int,
    ) -> None:
        self.space_id = space_id
        self.path = path
        self._writer: sqlite3.Connection | None = writer
        self._reader: sqlite3.Connection | None = reader
        self._executor = executor
        self._writing = asyncio.Lock()  # writer work that leaves the loop (trim, replay, close)
        self._reading = asyncio.Lock()
        self._checkpoint_every = checkpoint_every
        self._commits_since_checkpoint = 0
        self._checkpointing: asyncio.Task[None] | None = None
        self._last_seq = 0
        self._published_seq = 0  # known to be in JetStream (memory)
        self._saved_published_seq = 0  # as recorded in `meta`

    @classmethod
    async def open(
        cls, space_id: str, path: Path, executor: Executor | None = None, *, checkpoint_every: int = 200
    ) -> SqliteSpaceStore:
        def open_file() -> SqliteSpaceStore:
            writer = connect(path)
            reader: sqlite3.Connection | None = None
            try:
                schema.migrate(writer)
                writer.execute("PRAGMA wal_autocheckpoint = 0")  # checkpoints run on the reader, in a thread
                reader = connect(path)
                store = cls(space_id, path, writer, reader, executor, checkpoint_every)
                store._load()
            except BaseException:
                writer.close()
                if reader is not None:
                    reader.close()
                raise
            return store

        return await asyncio.get_running_loop().run_in_executor(executor, open_file)

    def _load(self) -> None:
        connection = self._write_connection
        meta = dict(connection.execute("SELECT key, value FROM meta").fetchall())
        owner = meta.get(_META_SPACE_ID)
        if owner is None:
            connection.execute("INSERT INTO meta (key, value) VALUES (?, ?)", (_META_SPACE_ID, self.space_id))
        elif owner != self.space_id:
            raise InvalidState(
                f"{self.path} holds space {owner}, not {self.space_id}", details={"spaceId": self.space_id}
            )
        self._last_seq = connection.execute("SELECT coalesce(max(seq), 0) FROM events").fetchone()[0]
        self._published_seq = self._saved_published_seq = int(meta.get(_META_PUBLISHED_SEQ, 0))

    # -- the port: writing -------------------------------------------------------------------

    @property
    def last_seq(self) -> int:
        return self._last_seq

    @property
    def published_seq(self) -> int:
        return self._published_seq

    def mark_published(self, seq: int) -> None:
        # Recorded in `meta` by the next transaction (or `save_published_seq`): no extra commit per event.
        self._published_seq = max(self._published_seq, seq)

    async def write(self, work: Callable[[SpaceTx], T], *, in_thread: bool = False) -> T:
        async with self._writing:
            if in_thread:
                result = await asyncio.get_running_loop().run_in_executor(self._executor, self._transact, work)
            else:
                result = self._transact(work)
        self._commits_since_checkpoint += 1
        if self._commits_since_checkpoint >= self._checkpoint_every and self._checkpointing is None:
            self._commits_since_checkpoint = 0
            self._checkpointing = asyncio.create_task(self._checkpoint(), name=f"checkpoint {self.space_id}")
        return result

    async def save_published_seq(self) -> None:
        async with self._writing:
            seq = self._published_seq
            if seq != self._saved_published_seq:
                self._write_connection.execute(_SAVE_PUBLISHED_SEQ, (_META_PUBLISHED_SEQ, str(seq)))
                self._saved_published_seq = seq

    async def trim(self, *, keep_events: int, requests_before: int) -> None:
        def trim() -> None:
            connection = self._write_connection
            connection.execute("BEGIN IMMEDIATE")
            try:
                if keep_events > 0:
                    # The newest event always stays: max(seq) is the space's seq.
                    connection.execute("DELETE FROM events WHERE seq <= ?", (self._last_seq - keep_events,))
                connection.execute("DELETE FROM applied_requests WHERE at < ?", (requests_before,))
            except BaseException:
                connection.execute("ROLLBACK")
                raise
            connection.execute("COMMIT")

        async with self._writing:
            await asyncio.get_running_loop().run_in_executor(self._executor, trim)

    # -- the port: reading -------------------------------------------------------------------

    async def state_body(self) -> tuple[int, bytes]:
        def read(connection: sqlite3.Connection) -> tuple[int, bytes]:
            # Bytes straight from SQLite: no UTF-8 decode and re-encode of tens of megabytes.
            connection.text_factory = bytes
            try:
                assets, variants, lineage = connection.execute(_STATE_JSON).fetchone()
            finally:
                connection.text_factory = str
            seq = connection.execute("SELECT coalesce(max(seq), 0) FROM events").fetchone()[0]
            return seq, b"".join((b'{"assets":', assets, b',"variants":', variants, b',"lineage":', lineage, b"}"))

        return await self._read(read)

    async def state_json(self) -> bytes:
        seq, body = await self.state_body()
        head = f'{{"type":"space:snapshot","spaceId":{json.dumps(self.space_id)},"seq":{seq},'
        return head.encode() + body[1:]

    async def state(self) -> tuple[list[AssetRow], list[VariantRow], list[LineageRow], int]:
        def read(connection: sqlite3.Connection) -> tuple[list[AssetRow], list[VariantRow], list[LineageRow], int]:
            assets = build_all(build_asset, connection.execute(_STATE_ASSETS).fetchall())
            variants = build_all(build_variant, connection.execute(_STATE_VARIANTS).fetchall())
            lineage = build_all(build_lineage, connection.execute(_STATE_LINEAGE).fetchall())
            seq = connection.execute("SELECT coalesce(max(seq), 0) FROM events").fetchone()[0]
            return assets, variants, lineage, seq

        return await self._read(read)

    async def asset_detail(self, asset_id: str) -> tuple[AssetRow | None, list[VariantRow], list[LineageRow], int]:
        def read(connection: sqlite3.Connection) -> tuple[AssetRow | None, list[VariantRow], list[LineageRow], int]:
            found = connection.execute(f"{_ASSET_SELECT} WHERE id = ?", (asset_id,)).fetchone()
            variants = build_all(
                build_variant,
                connection.execute(f"{_VARIANT_SELECT} WHERE asset_id = ? ORDER BY created_at, id", (asset_id,)),
            )
            mine = "SELECT id FROM variants WHERE asset_id = ?"
            lineage = build_all(
                build_lineage,
                connection.execute(
                    f"{_LINEAGE_SELECT} WHERE parent_variant_id IN ({mine}) OR child_variant_id IN ({mine})"
                    " ORDER BY created_at, id",
                    (asset_id, asset_id),
                ),
            )
            seq = connection.execute("SELECT coalesce(max(seq), 0) FROM events").fetchone()[0]
            return (build_asset(found) if found else None), variants, lineage, seq

        return await self._read(read)

    async def events_since(self, since_seq: int, limit: int) -> tuple[list[StoredEvent], int, int]:
        def read(connection: sqlite3.Connection) -> tuple[list[StoredEvent], int, int]:
            rows = connection.execute(
                "SELECT seq, payload FROM events WHERE seq > ? ORDER BY seq LIMIT ?", (since_seq, limit)
            ).fetchall()
            first, last = connection.execute("SELECT min(seq), max(seq) FROM events").fetchone()
            return [StoredEvent(seq, payload) for seq, payload in rows], first or 1, last or 0

        return await self._read(read)

    async def backup(self, path: Path) -> int:
        def copy(connection: sqlite3.Connection) -> int:
            path.parent.mkdir(parents=True, exist_ok=True)
            target = sqlite3.connect(path)
            try:
                connection.backup(target)
                return target.execute("SELECT coalesce(max(seq), 0) FROM events").fetchone()[0]
            finally:
                target.close()

        return await self._read(copy, transaction=False)

    async def close(self) -> None:
        checkpointing, self._checkpointing = self._checkpointing, None
        if checkpointing is not None:
            await checkpointing

        def close() -> None:
            reader, self._reader = self._reader, None
            writer, self._writer = self._writer, None
            if reader is not None:
                reader.close()
            if writer is not None:
                writer.execute("PRAGMA optimize")
                writer.close()  # the last connection checkpoints the WAL into the file and removes it

        async with self._writing, self._reading:
            if self._writer is not None:
                await asyncio.get_running_loop().run_in_executor(self._executor, close)

    # -- internals -------------------------------------------------------------------------

    @property
    def _write_connection(self) -> sqlite3.Connection:
        if self._writer is None:
            raise self._closed()
        return self._writer

    def _closed(self) -> SpaceClosing:
        return SpaceClosing(f"space {self.space_id} is closed on this replica", details={"spaceId": self.space_id})

    async def _read(self, work: Callable[[sqlite3.Connection], T], *, transaction: bool = True) -> T:
        """Run `work` on the reader in a worker thread; with `transaction`, all its statements see one snapshot."""

        def run() -> T:
            connection = self._reader
            if connection is None:
                raise self._closed()
            if not transaction:
                return work(connection)
            connection.execute("BEGIN")
            try:
                return work(connection)
            finally:
                connection.execute("COMMIT")

        async with self._reading:
            return await asyncio.get_running_loop().run_in_executor(self._executor, run)

    async def _checkpoint(self) -> None:
        def checkpoint(connection: sqlite3.Connection) -> None:
            connection.execute("PRAGMA wal_checkpoint(PASSIVE)")

        try:
            await self._read(checkpoint, transaction=False)
        except SpaceClosing:
            log.debug("space %s closed before its checkpoint; closing checkpoints it", self.space_id)
        except sqlite3.Error:
            log.exception("checkpoint of space %s failed; the WAL keeps growing until one succeeds", self.space_id)
        finally:
            self._checkpointing = None

    def _transact(self, work: Callable[[SpaceTx], T]) -> T:
        connection = self._write_connection
        connection.execute("BEGIN IMMEDIATE")
        tx = _Transaction(self, connection)
        try:
            result = work(tx)
            published = self._published_seq
            if published != self._saved_published_seq:
                connection.execute(_SAVE_PUBLISHED_SEQ, (_META_PUBLISHED_SEQ, str(published)))
            connection.execute("COMMIT")
        except BaseException:
            if connection.in_transaction:
                connection.execute("ROLLBACK")
            raise
        self._last_seq = tx.seq
        self._saved_published_seq = published
        return result


class _Transaction:
    """`SpaceTx` on an open SQLite transaction."""

    def __init__(self, store: SqliteSpaceStore, connection: sqlite3.Connection) -> None:
        self.space_id = store.space_id
        self.seq = store.last_seq
        self._db = connection
        self._savepoints = 0

    def last_seq(self) -> int:
        return self.seq

    def applied_reply(self, request_id: str) -> str | None:
        found = self._db.execute("SELECT reply FROM applied_requests WHERE request_id = ?", (request_id,)).fetchone()
        return found[0] if found else None

    def asset(self, asset_id: str) -> AssetRow | None:
        found = self._db.execute(f"{_ASSET_SELECT} WHERE id = ?", (asset_id,)).fetchone()
        return build_asset(found) if found else None

    def ancestors(self, asset_id: str) -> list[str]:
        # UNION (not UNION ALL) stops even on a cycle that should never exist.
        rows = self._db.execute(
            """
            WITH RECURSIVE chain (id, depth) AS (
              SELECT parent_asset_id, 1 FROM assets WHERE id = ? AND parent_asset_id IS NOT NULL
              UNION
              SELECT a.parent_asset_id, chain.depth + 1 FROM assets a JOIN chain ON a.id = chain.id
              WHERE a.parent_asset_id IS NOT NULL
            )
            SELECT id FROM chain ORDER BY depth
            """,
            (asset_id,),
        ).fetchall()
        return [row[0] for row in rows]

    def children(self, asset_id: str) -> list[AssetRow]:
        rows = self._db.execute(
            f"{_ASSET_SELECT} WHERE parent_asset_id = ? AND deleted_at IS NULL ORDER BY created_at, id", (asset_id,)
        ).fetchall()
        return build_all(build_asset, rows)

    def variant(self, variant_id: str) -> VariantRow | None:
        found = self._db.execute(f"{_VARIANT_SELECT} WHERE id = ?", (variant_id,)).fetchone()
        return build_variant(found) if found else None

    def variants_of(self, asset_id: str) -> list[VariantRow]:
        rows = self._db.execute(f"{_VARIANT_SELECT} WHERE asset_id = ? ORDER BY created_at, id", (asset_id,))
        return build_all(build_variant, rows.fetchall())

    def lineage(self, lineage_id: str) -> LineageRow | None:
        found = self._db.execute(f"{_LINEAGE_SELECT} WHERE id = ?", (lineage_id,)).fetchone()
        return build_lineage(found) if found else None

    def put_asset(self, asset: AssetRow) -> None:
        self._db.execute(_PUT_ASSET, values_of(asset, ASSET_COLUMNS))

    def put_variant(self, variant: VariantRow) -> None:
        self._db.execute(_PUT_VARIANT, values_of(variant, VARIANT_COLUMNS))

    def delete_variant(self, variant_id: str) -> None:
        self._db.execute("DELETE FROM variants WHERE id = ?", (variant_id,))

    def soft_delete_asset(self, asset_id: str, at: int) -> None:
        self._db.execute(
            "UPDATE assets SET deleted_at = ?, updated_at = ? WHERE id = ? AND deleted_at IS NULL", (at, at, asset_id)
        )

    def insert_lineage(self, lineage: LineageRow) -> None:
        self._db.execute(_INSERT_LINEAGE, values_of(lineage, LINEAGE_COLUMNS))

    def sever_lineage(self, lineage_id: str) -> None:
        self._db.execute("UPDATE lineage SET severed = 1 WHERE id = ? AND severed = 0", (lineage_id,))

    def pending_variants(self) -> list[VariantRow]:
        rows = self._db.execute(
            f"SELECT {', '.join('v.' + name for name in VARIANT_COLUMNS)} {_LIVE_VARIANTS} AND v.status = 'pending'"
            " ORDER BY v.created_at, v.rowid"
        )
        return build_all(build_variant, rows.fetchall())

    # -- chat and approvals --

    def chat_message(self, message_id: str) -> ChatMessageRow | None:
        found = self._db.execute(f"{_CHAT_SELECT} WHERE id = ?", (message_id,)).fetchone()
        return build_chat_message(found) if found else None

    def put_chat_message(self, message: ChatMessageRow) -> None:
        self._db.execute(_PUT_CHAT_MESSAGE, values_of(message, CHAT_MESSAGE_COLUMNS))

    def clear_chat(self) -> None:
        self._db.execute("DELETE FROM chat_messages")

    def chat_history(self, limit: int, before: int | None = None) -> list[ChatMessageRow]:
        if before is None:
            rows = self._db.execute(f"{_CHAT_SELECT} {_NEWEST_FIRST} LIMIT ?", (limit,))
        else:
            rows = self._db.execute(f"{_CHAT_SELECT} WHERE created_at < ? {_NEWEST_FIRST} LIMIT ?", (before, limit))
        return build_all(build_chat_message, reversed(rows.fetchall()))

    def messages_before(self, message: ChatMessageRow, limit: int) -> list[ChatMessageRow]:
        # Conversation order is (created_at, rowid): messages of one millisecond stay in insertion order.
        rows = self._db.execute(
            f"{_CHAT_SELECT} WHERE (created_at, rowid) < (SELECT created_at, rowid FROM chat_messages WHERE id = ?)"
            f" {_NEWEST_FIRST} LIMIT ?",
            (message.id, limit),
        )
        return build_all(build_chat_message, reversed(rows.fetchall()))

    def approval(self, approval_id: str) -> ApprovalRow | None:
        found = self._db.execute(f"{_APPROVAL_SELECT} WHERE id = ?", (approval_id,)).fetchone()
        return build_approval(found) if found else None

    def put_approval(self, approval: ApprovalRow) -> None:
        self._db.execute(_PUT_APPROVAL, values_of(approval, APPROVAL_COLUMNS))

    def approvals(self, status: ApprovalStatus | None) -> list[ApprovalRow]:
        if status is None:
            rows = self._db.execute(f"{_APPROVAL_SELECT} {_NEWEST_FIRST}")
        else:
            rows = self._db.execute(f"{_APPROVAL_SELECT} WHERE status = ? {_NEWEST_FIRST}", (status.value,))
        return build_all(build_approval, rows.fetchall())

    def approval_naming_variant(self, variant_id: str) -> ApprovalRow | None:
        # The expression and the condition are the index's (approvals_by_variant), so SQLite uses it.
        found = self._db.execute(
            f"{_APPROVAL_SELECT} WHERE json_extract(result, '$.variantId') = ? AND result IS NOT NULL"
            f" {_NEWEST_FIRST} LIMIT 1",
            (variant_id,),
        ).fetchone()
        return build_approval(found) if found else None

    def recent_assets(self, limit: int) -> list[AssetRow]:
        rows = self._db.execute(
            f"{_ASSET_SELECT} WHERE deleted_at IS NULL ORDER BY coalesce(updated_at, created_at) DESC, rowid DESC"
            " LIMIT ?",
            (limit,),
        )
        return build_all(build_asset, rows.fetchall())

    def shown_variant(self, asset: AssetRow) -> VariantRow | None:
        found = self._db.execute(
            f"{_VARIANT_SELECT} WHERE asset_id = ? ORDER BY id = ? DESC, created_at DESC, rowid DESC LIMIT 1",
            (asset.id, asset.active_variant_id or ""),
        ).fetchone()
        return build_variant(found) if found else None

    def lineage_among(self, variant_ids: Sequence[str], limit: int) -> list[LineageRow]:
        ids = json.dumps(list(variant_ids))
        rows = self._db.execute(
            f"{_LINEAGE_SELECT} WHERE severed = 0 AND parent_variant_id IN (SELECT value FROM json_each(?))"
            f" AND child_variant_id IN (SELECT value FROM json_each(?)) {_NEWEST_FIRST} LIMIT ?",
            (ids, ids, limit),
        )
        return build_all(build_lineage, rows.fetchall())

    @contextlib.contextmanager
    def savepoint(self) -> Iterator[None]:
        self._savepoints += 1
        name, seq = f"nested_{self._savepoints}", self.seq
        self._db.execute(f"SAVEPOINT {name}")
        try:
            yield
        except BaseException:
            self._db.execute(f"ROLLBACK TO {name}")
            self._db.execute(f"RELEASE {name}")
            self.seq = seq
            raise
        self._db.execute(f"RELEASE {name}")

    def append_events(self, events: Sequence[SpaceEvent]) -> list[StoredEvent]:
        stored: list[StoredEvent] = []
        for event in events:
            if event.seq != self.seq + 1:
                raise ValidationFailed(
                    f"event seq {event.seq} does not follow {self.seq}", details={"seq": event.seq, "last": self.seq}
                )
            payload = event.model_dump_json()
            self._db.execute(
                "INSERT INTO events (seq, type, payload, at) VALUES (?, ?, ?, ?)",
                (event.seq, event.type, payload, event.at),
            )
            self.seq = event.seq
            stored.append(StoredEvent(event.seq, payload))
        return stored

    def record_request(self, request_id: str, seq_from: int | None, seq_to: int | None, reply: str, at: int) -> None:
        self._db.execute(
            "INSERT INTO applied_requests (request_id, seq_from, seq_to, reply, at) VALUES (?, ?, ?, ?, ?) "
            "ON CONFLICT (request_id) DO UPDATE SET seq_to = excluded.seq_to, reply = excluded.reply",
            (request_id, seq_from, seq_to, reply, at),
        )


class SqliteSpaceFiles:
    """`SpaceFiles` on the local disk: `<data_dir>/spaces/…` and `<data_dir>/snapshots/<spaceId>/<seq>.sqlite`."""

    def __init__(self, data_dir: Path, executor: Executor | None = None) -> None:
        self.data_dir = Path(data_dir)
        self._executor = executor

    def space_path(self, space_id: str) -> Path:
        return space_path(self.data_dir, space_id)

    async def open(self, space_id: str) -> SqliteSpaceStore:
        return await SqliteSpaceStore.open(space_id, self.space_path(space_id), self._executor)

    def snapshot_path(self, space_id: str, seq: int) -> Path:
        return self.data_dir / "snapshots" / space_id / f"{seq}.sqlite"

    async def restore(self, space_id: str, snapshot: Path) -> int:
        def restore() -> int:
            holder = read_meta(snapshot).get(_META_SPACE_ID)
            if holder != space_id:
                raise ValidationFailed(
                    f"{snapshot} is a snapshot of space {holder}, not {space_id}", details={"spaceId": space_id}
                )
            target = self.space_path(space_id)
            restore_file(snapshot, target)
            connection = sqlite3.connect(target)
            try:
                return connection.execute("SELECT coalesce(max(seq), 0) FROM events").fetchone()[0]
            finally:
                connection.close()

        return await asyncio.get_running_loop().run_in_executor(self._executor, restore)


def restore_file(snapshot: Path, target: Path) -> None:
    """Replace the space file at `target` with a copy of `snapshot` (SQLite backup API; WAL files removed)."""
    for suffix in ("", "-wal", "-shm"):
        Path(f"{target}{suffix}").unlink(missing_ok=True)
    target.parent.mkdir(parents=True, exist_ok=True)
    source = sqlite3.connect(f"file:{snapshot}?mode=ro", uri=True)
    try:
        destination = sqlite3.connect(target)
        try:
            source.backup(destination)
        finally:
            destination.close()
    finally:
        source.close()


def read_meta(path: Path) -> dict[str, Any]:
    """The `meta` table of a space file (used to check a snapshot before restoring it)."""
    connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return dict(connection.execute("SELECT key, value FROM meta").fetchall())
    finally:
        connection.close()
