"""Adapters for the space store port: SQLite files on the local disk."""
