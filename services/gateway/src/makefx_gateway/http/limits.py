"""A cap on request bodies: refused up front by Content-Length, or cut off while being read.

One cap for the JSON API, and larger ones for the few routes that take files (the one-step
upload), matched by method and path before routing.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from makefx_gateway.errors import BodyTooLarge, body_too_large_response


@dataclass(frozen=True)
class RouteLimit:
    """A body cap for one route: `method` requests whose path matches `path`."""

    method: str
    path: re.Pattern[str]
    max_bytes: int


class BodyLimit:
    def __init__(self, app: ASGIApp, max_bytes: int, routes: Sequence[RouteLimit] = ()) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.routes = tuple(routes)

    def limit_of(self, scope: Scope) -> int:
        for route in self.routes:
            if scope["method"] == route.method and route.path.match(scope["path"]):
                return route.max_bytes
        return self.max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit_of(scope)
        declared = Headers(scope=scope).get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await body_too_large_response(limit)(scope, receive, send)
            return
        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge(limit)
            return message

        await self.app(scope, limited_receive, send)
