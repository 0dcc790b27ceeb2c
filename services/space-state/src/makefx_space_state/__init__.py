"""The space-state service: one SQLite file per space (assets, variants, lineage, chat, events)."""
