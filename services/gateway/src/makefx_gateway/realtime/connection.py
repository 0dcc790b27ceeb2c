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
CLOSE_NOT_A_MEMBER = 4403
CLOSE_SPACE_DELETED = 4404
CLOSE_SERVER_SHUTDOWN = 1001

NOT_A_MEMBER = "you are no longer a member of this space"
SPACE_DELETED = "this space was deleted"

# How long closing may wait for a socket that takes no more data before giving up on it.
CLOSE_TIMEOUT_SECONDS = 5.0


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
        self._syncing = False
        self._held: list[tuple[int, str]] = []
        self._outbox: asyncio.Queue[str | None] = asyncio.Queue(maxsize=outbox_limit)
        self._closing: tuple[int, str] | None = None
        self._closed = asyncio.Event()
        # The writer task while it waits on the socket to take a frame, so `close` can give up on it.
        self._sending: asyncio.Task[None] | None = None
        self._send_abandoned = False

    @property
    def outbox_limit(self) -> int:
        return self._outbox.maxsize

    @property
    def closing(self) -> tuple[int, str] | None:
        """The close code and reason once `close` was called."""
        return self._closing

    async def until_closed(self) -> None:
        """Returns once `close` has been called (the socket itself may take a moment longer)."""
        await self._closed.wait()

    # -- sending -----------------------------------------------------------------------

    def send(self, frame: str) -> bool:
        """Queue a frame; a socket that cannot keep up is closed rather than slowing the others."""
        if self._closing is not None:
            return False
        try:
            self._outbox.put_nowait(frame)
            return True
        except asyncio.QueueFull:
            self.close(CLOSE_TOO_SLOW, f"too slow: more than {self._outbox.maxsize} messages waiting", abandon=True)
            return False

    def close(self, code: int, reason: str, *, abandon: bool = False) -> None:
        """Stop taking frames and close the socket with `code` once the writer gets there.

        Frames already queued go out first, unless `abandon` (or the outbox is full): then
        they are dropped and a send the socket is not taking is given up, so the writer
        ends at once. Dropping the whole tail keeps what the client got a gap-free prefix
        of the events: it resumes from its last seq and misses nothing.
        """
        if self._closing is not None:
            return
        self._closing = (code, reason)
        self._closed.set()
        if abandon or self._outbox.full():
            while not self._outbox.empty():
                self._outbox.get_nowait()
            if self._sending is not None:
                self._send_abandoned = True
                self._sending.cancel()
        self._outbox.put_nowait(None)

    async def write_loop(self) -> None:
        """Drain the outbox onto the socket until closed, then close the socket with the code given."""
        try:
            while (frame := await self._outbox.get()) is not None:
                if not await self._write(frame):
                    break
        except (WebSocketDisconnect, RuntimeError, OSError):
            return
        if self._closing is not None and self.socket.client_state is WebSocketState.CONNECTED:
            code, reason = self._closing
            # A socket that takes no data cannot take the close frame either: do not wait on it forever.
            with contextlib.suppress(TimeoutError, WebSocketDisconnect, RuntimeError, OSError):
                await asyncio.wait_for(self.socket.close(code, reason), CLOSE_TIMEOUT_SECONDS)

    async def _write(self, frame: str) -> bool:
        """Send one frame; False when `close` gave up on it because the socket was not taking it."""
        writer = self._sending = asyncio.current_task()
        try:
            await self.socket.send_text(frame)
        except asyncio.CancelledError:
            # Ours (from `close`) ends the sending quietly; any other cancellation goes on.
            if not self._send_abandoned or writer is None or writer.uncancel() > 0:
                raise
            return False
        finally:
            self._sending = None
        return True

    # -- events ------------------------------------------------------------------------

    def deliver(self, seq: int, frame: str) -> None:
        """An event for this space: held while syncing, dropped when already seen."""
        if not self.synced:
            if len(self._held) >= self._outbox.maxsize:
                if self._syncing:
                    self.close(CLOSE_TOO_SLOW, "too slow: too many events arrived during the sync", abandon=True)
                    return
                # Before the first sync nothing held is needed: that sync covers every event delivered so far.
                self._held.clear()
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
        self._syncing = True

    def finish_sync(self, seq: int) -> None:
        """The client now has everything up to `seq`; release what arrived meanwhile, in order."""
        self.last_seq = max(self.last_seq, seq)
        self.synced = True
        self._syncing = False
        held, self._held = self._held, []
        for held_seq, frame in sorted(held, key=lambda item: item[0]):
            self.deliver(held_seq, frame)
