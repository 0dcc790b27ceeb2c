"""The gateway's global database: the store port, its SQLModel adapter and the migrations."""

from makefx_gateway.store.port import GatewayStore, Transaction
from makefx_gateway.store.sql import SqlStore, create_engine

__all__ = ["GatewayStore", "SqlStore", "Transaction", "create_engine"]
