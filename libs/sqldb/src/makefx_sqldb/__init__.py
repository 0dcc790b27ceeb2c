"""SQL databases owned by one service (the gateway's global DB, billing's ledger): SQLite or PostgreSQL."""

from makefx_sqldb.database import Database
from makefx_sqldb.engine import WRITE, create_engine
from makefx_sqldb.migrations import Migration, SchemaTooNew, apply_migrations, schema_version

__all__ = ["WRITE", "Database", "Migration", "SchemaTooNew", "apply_migrations", "create_engine", "schema_version"]
