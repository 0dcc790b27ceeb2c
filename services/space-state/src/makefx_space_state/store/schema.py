"""The space database's schema, as an ordered list of migrations applied on open (`PRAGMA user_version`)."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable

from makefx_space_state.errors import SchemaTooNew

# The seed's `variants` table, verbatim (ARCHITECTURE §5): columns, CHECKs, defaults and
# comments exactly as the original product declared them. `poster_key` arrives in v2.
SEED_VARIANTS_TABLE = """\
CREATE TABLE variants (
  id TEXT PRIMARY KEY,
  asset_id TEXT NOT NULL,
  media_kind TEXT NOT NULL DEFAULT 'image' CHECK (media_kind IN ('image', 'audio', 'video')),
  workflow_id TEXT UNIQUE,                    -- Cloudflare workflow ID
  status TEXT NOT NULL DEFAULT 'pending'      -- pending, processing, uploading, completed, failed
    CHECK (status IN ('pending', 'processing', 'uploading', 'completed', 'failed')),
  error_message TEXT,                         -- Error details when failed
  image_key TEXT,                             -- NULL until completed
  thumb_key TEXT,                             -- NULL until completed
  media_key TEXT,                             -- Canonical primary media R2 key
  media_mime_type TEXT,                       -- Primary media MIME type
  media_size_bytes INTEGER,                   -- Primary media byte size
  media_width INTEGER,                        -- Image/video width when known
  media_height INTEGER,                       -- Image/video height when known
  media_duration_ms INTEGER,                  -- Audio/video duration when known
  generation_provenance TEXT,                 -- JSON normalized generation/source inputs
  provider_metadata TEXT,                     -- JSON provider/model/result metadata
  recipe TEXT NOT NULL,                       -- Full params for retry
  starred INTEGER NOT NULL DEFAULT 0,
  created_by TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  updated_at INTEGER
)"""

_V1 = [
    SEED_VARIANTS_TABLE,
    "CREATE INDEX variants_by_asset ON variants (asset_id, created_at)",
    """
    CREATE TABLE assets (
      id TEXT PRIMARY KEY,
      name TEXT NOT NULL,
      type TEXT NOT NULL,
      media_kind TEXT NOT NULL DEFAULT 'image' CHECK (media_kind IN ('image', 'audio', 'video')),
      parent_asset_id TEXT REFERENCES assets (id),
      -- Deferred: a fork inserts the asset before the variant it points at.
      active_variant_id TEXT REFERENCES variants (id) DEFERRABLE INITIALLY DEFERRED,
      position_x REAL NOT NULL DEFAULT 0,
      position_y REAL NOT NULL DEFAULT 0,
      tags TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(tags) AND json_type(tags) = 'array'),
      created_by TEXT NOT NULL,
      created_at INTEGER NOT NULL,
      updated_at INTEGER,
      deleted_at INTEGER
    )""",
    "CREATE INDEX assets_by_deleted_at ON assets (deleted_at)",
    "CREATE INDEX assets_by_parent ON assets (parent_asset_id)",
    # No foreign keys to variants: a deleted variant's lineage stays, for audit.
    """
    CREATE TABLE lineage (
      id TEXT PRIMARY KEY,
      parent_variant_id TEXT NOT NULL,
      child_variant_id TEXT NOT NULL,
      relation_type TEXT NOT NULL CHECK (relation_type IN ('derived', 'refined', 'forked')),
      severed INTEGER NOT NULL DEFAULT 0 CHECK (severed IN (0, 1)),
      created_at INTEGER NOT NULL
    )""",
    "CREATE INDEX lineage_by_parent ON lineage (parent_variant_id)",
    "CREATE INDEX lineage_by_child ON lineage (child_variant_id)",
    # Lineage is an audit record: the database itself refuses to rewrite or forget it.
    """
    CREATE TRIGGER lineage_is_never_deleted BEFORE DELETE ON lineage
    BEGIN
      SELECT RAISE(ABORT, 'lineage is immutable: rows are never deleted');
    END""",
    """
    CREATE TRIGGER lineage_only_gets_severed BEFORE UPDATE ON lineage
    WHEN NOT (
      OLD.severed = 0 AND NEW.severed = 1
      AND NEW.id IS OLD.id
      AND NEW.parent_variant_id IS OLD.parent_variant_id
      AND NEW.child_variant_id IS OLD.child_variant_id
      AND NEW.relation_type IS OLD.relation_type
      AND NEW.created_at IS OLD.created_at
    )
    BEGIN
      SELECT RAISE(ABORT, 'lineage is immutable: only severed may change, from 0 to 1');
    END""",
    # Every committed change, gap-free: seq n+1 follows n, enforced here as well as in code.
    # Trimming old events always keeps the newest, so max(seq) is the space's seq.
    """
    CREATE TABLE events (
      seq INTEGER PRIMARY KEY,
      type TEXT NOT NULL,
      payload TEXT NOT NULL,
      at INTEGER NOT NULL
    )""",
    """
    CREATE TRIGGER events_are_gap_free BEFORE INSERT ON events
    WHEN NEW.seq IS NOT (SELECT coalesce(max(seq), 0) + 1 FROM events)
    BEGIN
      SELECT RAISE(ABORT, 'events must be appended with the next seq');
    END""",
    """
    CREATE TABLE applied_requests (
      request_id TEXT PRIMARY KEY,
      seq_from INTEGER,
      seq_to INTEGER,
      reply TEXT NOT NULL,
      at INTEGER NOT NULL
    ) WITHOUT ROWID""",
    "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID",
]

_V2 = [
    # The seed's later addition: the poster frame of a video variant (`/poster`).
    "ALTER TABLE variants ADD COLUMN poster_key TEXT",
]

_V3 = [
    # Filled by the chat issue; created now so every space file has one shape.
    """
    CREATE TABLE chat_messages (
      id TEXT PRIMARY KEY,
      role TEXT NOT NULL CHECK (role IN ('user', 'assistant', 'tool')),
      mode TEXT CHECK (mode IN ('advisor', 'actor')),
      content TEXT NOT NULL DEFAULT '',
      tool_calls TEXT CHECK (tool_calls IS NULL OR json_valid(tool_calls)),   -- JSON: proposed tool calls
      tool_call_id TEXT,                                                     -- the call a tool result answers
      metadata TEXT CHECK (metadata IS NULL OR json_valid(metadata)),        -- JSON: model, usage, …
      created_by TEXT,                                                       -- NULL for the bot
      created_at INTEGER NOT NULL
    )""",
    "CREATE INDEX chat_messages_by_created_at ON chat_messages (created_at)",
    """
    CREATE TABLE approvals (
      id TEXT PRIMARY KEY,
      message_id TEXT REFERENCES chat_messages (id) ON DELETE SET NULL,
      tool_call_id TEXT,
      tool_name TEXT NOT NULL,
      tool_input TEXT NOT NULL CHECK (json_valid(tool_input)),               -- JSON arguments
      status TEXT NOT NULL DEFAULT 'pending'
        CHECK (status IN ('pending', 'approved', 'rejected', 'executed', 'failed')),
      result TEXT CHECK (result IS NULL OR json_valid(result)),              -- JSON outcome once executed
      error_message TEXT,
      created_by TEXT NOT NULL,
      created_at INTEGER NOT NULL,
      decided_by TEXT,
      decided_at INTEGER,
      updated_at INTEGER
    )""",
    "CREATE INDEX approvals_by_status ON approvals (status, created_at)",
]


_V4 = [
    # The approval that created a variant, found when the variant's generation ends (chat.variant_ended).
    "CREATE INDEX approvals_by_variant ON approvals (json_extract(result, '$.variantId')) WHERE result IS NOT NULL",
]


def _statements(statements: list[str]) -> Callable[[sqlite3.Connection], None]:
    def migrate(connection: sqlite3.Connection) -> None:
        for statement in statements:
            connection.execute(statement)

    return migrate


MIGRATIONS: tuple[Callable[[sqlite3.Connection], None], ...] = (
    _statements(_V1),
    _statements(_V2),
    _statements(_V3),
    _statements(_V4),
)
"""Migration n (1-based) takes a database from user_version n-1 to n. Append only; never edit one."""

VERSION = len(MIGRATIONS)


def migrate(connection: sqlite3.Connection, *, target: int = VERSION) -> int:
    """Bring the database to `target`, each step in its own transaction; returns the version found."""
    found = connection.execute("PRAGMA user_version").fetchone()[0]
    if found > VERSION:
        raise SchemaTooNew(f"space database is at schema version {found}; this build knows up to {VERSION}")
    for version in range(found + 1, target + 1):
        connection.execute("BEGIN IMMEDIATE")
        try:
            MIGRATIONS[version - 1](connection)
            connection.execute(f"PRAGMA user_version = {version}")
        except BaseException:
            connection.execute("ROLLBACK")
            raise
        connection.execute("COMMIT")
    return found
