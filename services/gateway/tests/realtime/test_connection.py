"""A connection shows each event once, in order, holds events while syncing, and bounds its outbox."""

import asyncio

from makefx_contracts.identity import Role
from makefx_gateway.realtime.connection import CLOSE_TOO_SLOW, Connection, Who


class RecordingSocket:
    """A stand-in for Starlette's WebSocket: records what the writer sends."""

    def __init__(self) -> None:
        from starlette.websockets import WebSocketState

        self.client_state = WebSocketState.CONNECTED
        self.sent: list[str] = []
        self.closed: tuple[int, str] | None = None

    async def send_text(self, frame: str) -> None:
        self.sent.append(frame)

    async def close(self, code: int, reason: str) -> None:
        self.closed = (code, reason)


def connection(limit: int = 100) -> tuple[Connection, RecordingSocket]:
    socket = RecordingSocket()
    who = Who(user_id="usr_1", name="Ada", session_id="ses_1")
    return Connection(socket, "spc_1", who, Role.EDITOR, outbox_limit=limit), socket  # type: ignore[arg-type]


async def drain(conn: Connection) -> None:
    conn.close(1000, "done")
    await asyncio.wait_for(conn.write_loop(), 30)


async def test_events_are_held_until_sync_finishes_then_released_in_seq_order():
    conn, socket = connection()
    conn.deliver(7, "e7")
    conn.deliver(6, "e6")
    conn.deliver(4, "e4")
    conn.finish_sync(5)
    await drain(conn)
    assert socket.sent == ["e6", "e7"]
    assert conn.last_seq == 7


async def test_an_event_already_seen_is_never_sent_twice():
    conn, socket = connection()
    conn.finish_sync(0)
    for seq in (1, 2, 2, 1, 3):
        conn.deliver(seq, f"e{seq}")
    await drain(conn)
    assert socket.sent == ["e1", "e2", "e3"]


async def test_replayed_events_during_sync_go_out_before_the_held_live_ones():
    conn, socket = connection()
    conn.begin_sync()
    conn.deliver(4, "live4")
    conn.deliver(3, "live3")
    conn.last_seq = 1
    conn.replay(2, "replay2")
    conn.replay(3, "replay3")
    conn.finish_sync(3)
    await drain(conn)
    assert socket.sent == ["replay2", "replay3", "live4"]


async def test_a_socket_that_falls_behind_is_closed_with_a_clear_code():
    conn, socket = connection(limit=16)
    conn.finish_sync(0)
    for seq in range(1, 40):
        conn.deliver(seq, f"e{seq}")
    assert conn.send("more") is False
    await asyncio.wait_for(conn.write_loop(), 30)
    assert socket.closed is not None
    code, reason = socket.closed
    assert code == CLOSE_TOO_SLOW and "too slow" in reason
    assert len(socket.sent) <= 16


class StuckSocket(RecordingSocket):
    """A socket that takes `takes` frames and then blocks, as one whose client stopped reading."""

    def __init__(self, takes: int) -> None:
        super().__init__()
        self.takes = takes
        self.stuck = asyncio.Event()

    async def send_text(self, frame: str) -> None:
        if len(self.sent) >= self.takes:
            self.stuck.set()
            await asyncio.Event().wait()
        self.sent.append(frame)


async def test_a_socket_that_stops_reading_is_given_up_and_got_a_gap_free_prefix():
    socket = StuckSocket(takes=3)
    conn = Connection(socket, "spc_1", Who("usr_1", "Ada", "ses_1"), Role.EDITOR, outbox_limit=16)  # type: ignore[arg-type]
    conn.finish_sync(0)
    writer = asyncio.create_task(conn.write_loop())
    for seq in range(1, 5):
        conn.deliver(seq, f"e{seq}")
    await asyncio.wait_for(socket.stuck.wait(), 30)  # sending e4
    for seq in range(5, 40):
        conn.deliver(seq, f"e{seq}")

    await asyncio.wait_for(writer, 30)
    assert socket.sent == ["e1", "e2", "e3"]
    assert socket.closed is not None and socket.closed[0] == CLOSE_TOO_SLOW
    assert conn.closing is not None and conn.closing[0] == CLOSE_TOO_SLOW


async def test_a_burst_of_events_during_a_sync_beyond_the_outbox_closes_the_socket_as_too_slow():
    conn, _ = connection(limit=16)
    conn.begin_sync()
    for seq in range(1, 18):
        conn.deliver(seq, f"e{seq}")
    assert conn.closing is not None and conn.closing[0] == CLOSE_TOO_SLOW


async def test_before_the_first_sync_events_held_stay_bounded_and_the_sync_still_releases_the_newer_ones():
    conn, socket = connection(limit=16)
    for seq in range(1, 41):
        conn.deliver(seq, f"e{seq}")
    assert conn.closing is None
    conn.finish_sync(35)
    await drain(conn)
    assert socket.sent == ["e36", "e37", "e38", "e39", "e40"]


async def test_closing_normally_sends_what_was_already_queued_first():
    conn, socket = connection()
    conn.finish_sync(0)
    conn.deliver(1, "e1")
    conn.deliver(2, "e2")
    conn.close(1000, "bye")
    assert conn.send("late") is False
    await asyncio.wait_for(conn.write_loop(), 30)
    assert socket.sent == ["e1", "e2"] and socket.closed == (1000, "bye")
