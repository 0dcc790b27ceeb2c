"""What every fake provider shares: real HTTP on a free port, replies from a script, every request recorded.

Each fake keeps its provider's wire format (paths, bodies, errors) in its own module; this
is only the scaffolding around it.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any, Generic, Protocol, TypeVar

from makefx_testing.app_server import AppServer

R = TypeVar("R")
Q = TypeVar("Q")


@dataclass
class ScriptedFake(Generic[R, Q]):
    """Answers each request with the next scripted reply (the last one repeats) and records every request."""

    replies: list[R] = field(default_factory=list)
    requests: list[Q] = field(default_factory=list)
    url: str = ""

    def script(self, *replies: R) -> None:
        """Replace the script and forget the requests so far."""
        self.replies = list(replies)
        self.requests.clear()

    def next_reply(self) -> R:
        return self.replies.pop(0) if len(self.replies) > 1 else self.replies[0]


class ServedFake(Protocol):
    url: str

    def app(self) -> Any: ...


F = TypeVar("F", bound=ServedFake)


@contextlib.asynccontextmanager
async def serving(fake: F) -> AsyncIterator[F]:
    """`fake` served on a free port of 127.0.0.1 in this event loop, its `url` set, until the block ends."""
    async with AppServer(fake.app()) as server:
        fake.url = server.url
        yield fake
