"""The usage ledger: its SQLModel tables, migrations and the SQL adapter."""

from makefx_billing.store.sql import LedgerStore, create_engine

__all__ = ["LedgerStore", "create_engine"]
