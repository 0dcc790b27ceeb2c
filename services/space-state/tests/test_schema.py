"""The space database's schema: the seed's variants table, immutable lineage, gap-free events, migrations."""

from __future__ import annotations

import re
import sqlite3

import pytest

from makefx_contracts.errors import InvalidState
from makefx_contracts.rows import AssetRow, LineageRow, VariantRow
from makefx_space_state.errors import SchemaTooNew
from makefx_space_state.store import schema
from makefx_space_state.store.sqlite import SqliteSpaceStore, connect

# (name, type, not null, default, primary key) — the seed's CREATE TABLE variants, then poster_key.
SEED_VARIANT_COLUMNS = [
    ("id", "TEXT", 0, None, 1),
    ("asset_id", "TEXT", 1, None, 0),
    ("media_kind", "TEXT", 1, "'image'", 0),
    ("workflow_id", "TEXT", 0, None, 0),
    ("status", "TEXT", 1, "'pending'", 0),
    ("error_message", "TEXT", 0, None, 0),
    ("image_key", "TEXT", 0, None, 0),
    ("thumb_key", "TEXT", 0, None, 0),
    ("media_key", "TEXT", 0, None, 0),
    ("media_mime_type", "TEXT", 0, None, 0),
    ("media_size_bytes", "INTEGER", 0, None, 0),
    ("media_width", "INTEGER", 0, None, 0),
    ("media_height", "INTEGER", 0, None, 0),
    ("media_duration_ms", "INTEGER", 0, None, 0),
    ("generation_provenance", "TEXT", 0, None, 0),
    ("provider_metadata", "TEXT", 0, None, 0),
    ("recipe", "TEXT", 1, None, 0),
    ("starred", "INTEGER", 1, "0", 0),
    ("created_by", "TEXT", 1, None, 0),
    ("created_at", "INTEGER", 1, None, 0),
    ("updated_at", "INTEGER", 0, None, 0),
    ("poster_key", "TEXT", 0, None, 0),
]

# The seed's text, as it appears in the original ARCHITECTURE (comments dropped, whitespace folded).
SEED_SQL = """CREATE TABLE variants ( id TEXT PRIMARY KEY, asset_id TEXT NOT NULL, media_kind TEXT NOT NULL DEFAULT
'image' CHECK (media_kind IN ('image', 'audio', 'video')), workflow_id TEXT UNIQUE, status TEXT NOT NULL DEFAULT
'pending' CHECK (status IN ('pending', 'processing', 'uploading', 'completed', 'failed')), error_message TEXT, image_key
TEXT, thumb_key TEXT, media_key TEXT, media_mime_type TEXT, media_size_bytes INTEGER, media_width INTEGER, media_height
INTEGER, media_duration_ms INTEGER, generation_provenance TEXT, provider_metadata TEXT, recipe TEXT NOT NULL, starred
INTEGER NOT NULL DEFAULT 0, created_by TEXT NOT NULL, created_at INTEGER NOT NULL, updated_at INTEGER )"""


def _fold(sql: str) -> str:
    """Comments dropped, whitespace folded, none around parentheses and before commas."""
    folded = " ".join(re.sub(r"--[^\n]*", "", sql).split())
    return re.sub(r"\s*([(),])\s*", lambda match: match.group(1) + (" " if match.group(1) == "," else ""), folded)


@pytest.fixture
def db(tmp_path):
    connection = connect(tmp_path / "space.sqlite")
    schema.migrate(connection)
    yield connection
    connection.close()


def _variant(db: sqlite3.Connection, **overrides: object) -> None:
    row = {"id": "v1", "asset_id": "a1", "recipe": "{}", "created_by": "u", "created_at": 1} | overrides
    db.execute(f"INSERT INTO variants ({', '.join(row)}) VALUES ({', '.join('?' * len(row))})", tuple(row.values()))


def test_variants_table_is_the_seeds_plus_poster_key(db):
    columns = [tuple(row[1:]) for row in db.execute("PRAGMA table_info(variants)")]
    assert columns == SEED_VARIANT_COLUMNS
    stored = db.execute("SELECT sql FROM sqlite_master WHERE name = 'variants'").fetchone()[0]
    assert _fold(stored) == _fold(SEED_SQL)[:-1] + ", poster_key TEXT)"
    assert _fold(schema.SEED_VARIANTS_TABLE) == _fold(SEED_SQL)


def test_variant_rows_default_as_the_seed_says(db):
    _variant(db)
    assert db.execute("SELECT media_kind, status, starred FROM variants").fetchone() == ("image", "pending", 0)


@pytest.mark.parametrize(
    ("column", "value"), [("status", "done"), ("media_kind", "text"), ("status", None), ("recipe", None)]
)
def test_variant_checks_refuse_values_outside_the_seeds_sets(db, column, value):
    with pytest.raises(sqlite3.IntegrityError):
        _variant(db, **{column: value})


def test_workflow_id_is_unique(db):
    _variant(db, id="v1", workflow_id="wf")
    _variant(db, id="v2", workflow_id=None)
    _variant(db, id="v3", workflow_id=None)
    with pytest.raises(sqlite3.IntegrityError, match="UNIQUE"):
        _variant(db, id="v4", workflow_id="wf")


def test_row_models_name_exactly_the_tables_columns(db):
    for table, model in (("assets", AssetRow), ("variants", VariantRow), ("lineage", LineageRow)):
        assert [row[1] for row in db.execute(f"PRAGMA table_info({table})")] == list(model.model_fields)


def test_assets_media_kind_and_tags_are_checked(db):
    insert = (
        "INSERT INTO assets (id, name, type, media_kind, tags, created_by, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)"
    )
    db.execute(insert, ("a1", "n", "character", "video", '["x"]', "u", 1))
    for media_kind, tags in (("text", "[]"), ("image", "not json"), ("image", '{"a": 1}')):
        with pytest.raises(sqlite3.IntegrityError):
            db.execute(insert, ("a2", "n", "character", media_kind, tags, "u", 1))


def _lineage(db: sqlite3.Connection) -> None:
    db.execute(
        "INSERT INTO lineage (id, parent_variant_id, child_variant_id, relation_type, created_at) "
        "VALUES ('l1', 'v1', 'v2', 'derived', 1)"
    )


def test_lineage_rows_cannot_be_deleted(db):
    _lineage(db)
    with pytest.raises(sqlite3.IntegrityError, match="never deleted"):
        db.execute("DELETE FROM lineage WHERE id = 'l1'")


@pytest.mark.parametrize(
    "change",
    [
        "relation_type = 'forked'",
        "parent_variant_id = 'other'",
        "child_variant_id = 'other'",
        "created_at = 2",
        "id = 'l2'",
        "severed = 1, relation_type = 'refined'",
    ],
)
def test_lineage_rows_cannot_be_rewritten(db, change):
    _lineage(db)
    with pytest.raises(sqlite3.IntegrityError, match="only severed may change"):
        db.execute(f"UPDATE lineage SET {change} WHERE id = 'l1'")


def test_lineage_can_be_severed_once_and_never_restored(db):
    _lineage(db)
    db.execute("UPDATE lineage SET severed = 1 WHERE id = 'l1'")
    assert db.execute("SELECT severed FROM lineage").fetchone() == (1,)
    with pytest.raises(sqlite3.IntegrityError, match="only severed may change"):
        db.execute("UPDATE lineage SET severed = 0 WHERE id = 'l1'")
    with pytest.raises(sqlite3.IntegrityError, match="only severed may change"):
        db.execute("UPDATE lineage SET severed = 1 WHERE id = 'l1'")
    with pytest.raises(sqlite3.IntegrityError):
        db.execute("UPDATE lineage SET severed = 2 WHERE id = 'l1'")


def test_relation_type_is_checked(db):
    with pytest.raises(sqlite3.IntegrityError):
        db.execute(
            "INSERT INTO lineage (id, parent_variant_id, child_variant_id, relation_type, created_at) "
            "VALUES ('l1', 'v1', 'v2', 'copied', 1)"
        )


def test_events_must_be_appended_with_the_next_seq(db):
    insert = "INSERT INTO events (seq, type, payload, at) VALUES (?, 'asset:created', '{}', 1)"
    with pytest.raises(sqlite3.IntegrityError, match="next seq"):
        db.execute(insert, (2,))
    db.execute(insert, (1,))
    db.execute(insert, (2,))
    with pytest.raises(sqlite3.IntegrityError, match="next seq"):
        db.execute(insert, (4,))


def test_connections_use_wal_normal_sync_foreign_keys_and_a_busy_timeout(db):
    assert db.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    assert db.execute("PRAGMA synchronous").fetchone() == (1,)  # NORMAL
    assert db.execute("PRAGMA foreign_keys").fetchone() == (1,)
    assert db.execute("PRAGMA busy_timeout").fetchone() == (5000,)


def test_an_active_variant_must_exist_when_the_transaction_commits(db):
    db.execute("BEGIN")
    db.execute(
        "INSERT INTO assets (id, name, type, active_variant_id, created_by, created_at) "
        "VALUES ('a1', 'n', 't', 'v-missing', 'u', 1)"
    )
    with pytest.raises(sqlite3.IntegrityError, match="FOREIGN KEY"):
        db.execute("COMMIT")
    db.execute("ROLLBACK")


def test_the_approval_that_made_a_variant_is_found_through_an_index(db):
    plan = db.execute(
        "EXPLAIN QUERY PLAN SELECT id FROM approvals"
        " WHERE json_extract(result, '$.variantId') = ? AND result IS NOT NULL",
        ("v1",),
    ).fetchall()
    assert any("approvals_by_variant" in row[-1] for row in plan), plan


async def test_opening_a_version_1_file_migrates_it_and_keeps_its_rows(tmp_path):
    path = tmp_path / "spaces" / "sp" / "space-1.sqlite"
    old = connect(path)
    schema.migrate(old, target=1)
    _variant(old, id="kept", status="completed")
    old.execute("INSERT INTO meta (key, value) VALUES ('space_id', 'space-1')")
    assert old.execute("PRAGMA user_version").fetchone() == (1,)
    assert "poster_key" not in [row[1] for row in old.execute("PRAGMA table_info(variants)")]
    old.close()

    store = await SqliteSpaceStore.open("space-1", path)
    await store.close()

    migrated = sqlite3.connect(path)
    assert migrated.execute("PRAGMA user_version").fetchone() == (schema.VERSION,)
    assert [tuple(row[1:]) for row in migrated.execute("PRAGMA table_info(variants)")] == SEED_VARIANT_COLUMNS
    assert migrated.execute("SELECT id, status, poster_key FROM variants").fetchall() == [("kept", "completed", None)]
    tables = {row[0] for row in migrated.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert {"chat_messages", "approvals"} <= tables


async def test_a_file_from_a_newer_build_is_refused(tmp_path):
    path = tmp_path / "space.sqlite"
    newer = connect(path)
    newer.execute(f"PRAGMA user_version = {schema.VERSION + 1}")
    newer.close()
    with pytest.raises(SchemaTooNew):
        await SqliteSpaceStore.open("space-1", path)


async def test_a_file_of_another_space_is_refused(tmp_path):
    path = tmp_path / "space.sqlite"
    store = await SqliteSpaceStore.open("space-1", path)
    await store.close()
    with pytest.raises(InvalidState, match="holds space space-1"):
        await SqliteSpaceStore.open("space-2", path)
