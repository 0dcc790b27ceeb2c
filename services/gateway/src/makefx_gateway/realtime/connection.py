"""One browser socket: a bounded outbox, the last `seq` it has seen, and buffering while it syncs.

Events reach a connection from the hub (live) and from its own sync (catch-up). Both
go through `deliver`, which drops anything at or below the last seq sent, so a replay,
an overlap between catch-up and live events, or a redelivery never shows twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass

from starlette.websockets import WebSocket, WebSocketDisconnect, WebSocketState

from makefx_contracts.identity import Role

log = logging.getLogger(__name__)

# Close codes (4000-4999 are the application's).
CLOSE_TOO_SLOW = 4008
CLOSE_SERVER_SHUTDOWN = 1001


@dataclass(frozen=True)
class Who:
    user_id: str
    name: str
    session_id: str


class Connection:
    def __init__(self, socket: WebSocket, space_id: str, who: Who, role: Role, *, outbox_limit: int) -> None:
        self.socket = socket
        self.space_id = space_id
        self.who = who
        self.role = role
        self.viewing: str | None = None
        self.last_seq = 0
        self.synced = False
        self._held: list[tuple[int, str]] = []
        self._outbox: asyncio.Queue[str | None] = asyncio.Queue(maxsize=outbox_limit)
        self._closing: tuple[int, str] | None = None

    # -- sending -----------------------------------------------------------------------

    def send(self, frame: str) -> bool:
        """Queue a frame; a socket that cannot keep up is closed rather than slowing the others."""
        if self._closing is not None:
            return False
        try:
            self._outbox.put_nowait(frame)
            return True
        except asyncio.QueueFull:
            self.close(CLOSE_TOO_SLOW, f"too slow: more than {self._outbox.maxsize} messages waiting")
            return False

    def close(self, code: int, reason: str) -> None:
        if self._closing is None:
            self._closing = (code, reason)
            # Wake the writer even when the outbox is full.
            with contextlib.suppress(asyncio.QueueFull):
                self._outbox.put_nowait(None)
            if self._outbox.full():
                self._outbox.get_nowait()
                self._outbox.put_nowait(None)

    async def write_loop(self) -> None:
        """Drain the outbox onto the socket until closed."""
        try:
            while True:
                frame = await self._outbox.get()
                if frame is None:
                    break
                await self.socket.send_text(frame)
        except (WebSocketDisconnect, RuntimeError, OSError):
            return
        if self._closing is not None and self.socket.client_state is WebSocketState.CONNECTED:
            code, reason = self._closing
            with contextlib.suppress(RuntimeError, OSError):
                await self.socket.close(code, reason)

    # -- events ------------------------------------------------------------------------

    def deliver(self, seq: int, frame: str) -> None:
        """An event for this space: held while syncing, dropped when already seen."""
        if not self.synced:
            self._held.append((seq, frame))
            return
        if seq <= self.last_seq:
            return
        self.last_seq = seq
        self.send(frame)

    def replay(self, seq: int, frame: str) -> None:
        """A missed event sent during sync, ahead of anything held back."""
        if seq > self.last_seq:
            self.last_seq = seq
            self.send(frame)

    def begin_sync(self) -> None:
        self.synced = False

    def finish_sync(self, seq: int) -> None:
        """The client now has everything up to `seq`; release what arrived meanwhile, in order."""
        self.last_seq = max(self.last_seq, seq)
        self.synced = True
        held, self._held = self._held, []
        for held_seq, frame in sorted(held, key=lambda item: item[0]):
            self.deliver(held_seq, frame)
