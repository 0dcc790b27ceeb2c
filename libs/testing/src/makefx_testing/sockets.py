"""A real WebSocket client of a space for tests: every frame it receives is kept, in order, as JSON."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Callable, Collection
from typing import Any, ClassVar, Self

import websockets
from websockets.asyncio.client import ClientConnection

Frame = dict[str, Any]


class SocketPeer:
    """One member's socket to a space; a test waits for frames instead of sleeping.

    Subclasses add the product's requests in the words of their tests; `ANSWERS` are the
    frame types that answer a request (the events a request causes carry its requestId too).
    """

    ANSWERS: ClassVar[Collection[str]] = frozenset({"ack", "error"})

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self.frames: list[Frame] = []
        self.closed = asyncio.Event()
        self._arrived = asyncio.Event()
        self._reader: asyncio.Task[None] | None = None

    @classmethod
    async def connect(cls, http_url: str, space_id: str, token: str) -> Self:
        """A socket to the space at the gateway `http_url`, synced (its `sync:state` received)."""
        url = http_url.replace("http://", "ws://", 1) + f"/api/spaces/{space_id}/ws"
        ws = await websockets.connect(url, additional_headers={"Authorization": f"Bearer {token}"}, max_size=None)
        peer = cls(ws).start()
        await peer.send({"type": "sync:request"})
        await peer.wait_for(lambda frame: frame["type"] == "sync:state")
        return peer

    def start(self) -> Self:
        self._reader = asyncio.create_task(self._read())
        return self

    async def _read(self) -> None:
        try:
            async for message in self.ws:
                self.frames.append(json.loads(message))
                self._arrived.set()
        except websockets.ConnectionClosed:
            pass
        finally:
            self.closed.set()
            self._arrived.set()

    async def send(self, message: Frame | str) -> None:
        """A frame as JSON, or a text sent as it is (a malformed message, say)."""
        await self.ws.send(message if isinstance(message, str) else json.dumps(message))

    async def wait_for(self, predicate: Callable[[Frame], bool], *, timeout: float = 30, start: int = 0) -> Frame:
        """The first frame from index `start` on (received or yet to come) that matches."""
        index = start
        async with asyncio.timeout(timeout):
            while True:
                while index < len(self.frames):
                    if predicate(self.frames[index]):
                        return self.frames[index]
                    index += 1
                await self._next_frame()

    async def wait_until(self, holds: Callable[[], bool], *, timeout: float = 30) -> None:
        """Return once `holds()` is true, checked again at every frame."""
        async with asyncio.timeout(timeout):
            while not holds():
                await self._next_frame()

    async def _next_frame(self) -> None:
        if self.closed.is_set():
            raise AssertionError(f"the socket closed ({self.ws.close_code}) before the frame arrived")
        self._arrived.clear()
        await self._arrived.wait()

    async def request(self, type_: str, answered_by: Collection[str], **fields: Any) -> Frame:
        """Send with a fresh requestId; the first frame of a type in `answered_by` that carries it."""
        request_id = f"req-{uuid.uuid4().hex[:12]}"
        start = len(self.frames)
        await self.send({"type": type_, "requestId": request_id, **fields})
        return await self.wait_for(
            lambda frame: frame.get("requestId") == request_id and frame["type"] in answered_by, start=start
        )

    async def call(self, type_: str, **fields: Any) -> Frame:
        """Send with a fresh requestId; the frame answering it (one of `ANSWERS`)."""
        return await self.request(type_, self.ANSWERS, **fields)

    async def close(self) -> None:
        await self.ws.close()
        if self._reader is not None:
            await self._reader
