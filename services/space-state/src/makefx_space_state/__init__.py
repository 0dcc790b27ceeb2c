"""The space-state service: one SQLite file per space (assets, variants, lineage, chat, events).

`app.bootstrap(settings, ownership=...)` wires it; `ports.Ownership` is where the router's
leases plug in, `service.SpaceService` holds the use cases (commands, queries, snapshot,
restore, replay) and `spaces.OpenSpaces` the spaces open on this replica.
"""
