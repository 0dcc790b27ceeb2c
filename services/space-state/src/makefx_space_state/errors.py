"""This service's own failures, each mapped to a contract error code where it can cross the bus."""

from __future__ import annotations

from makefx_contracts.errors import InternalError, Unavailable


class SchemaTooNew(InternalError):
    """The space file was written by a newer build; opening it here could corrupt it."""


class SpaceClosing(Unavailable):
    """The replica is shutting down or handing the space off; the caller retries elsewhere."""


class PublishFailed(Exception):
    """An event could not be stored in JetStream. Never crosses the bus: the event is committed
    in the space's `events` table and is published again later (docs: publishing decision).

    `stored`: of several events sent together, how many of the first JetStream acknowledged.
    """

    def __init__(self, message: str, *, stored: int = 0) -> None:
        super().__init__(message)
        self.stored = stored
