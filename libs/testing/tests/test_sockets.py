"""The socket peer against a real WebSocket server that speaks a little of the space protocol."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import pytest
from websockets.asyncio.server import ServerConnection, serve

from makefx_testing.sockets import SocketPeer


async def _space(connection: ServerConnection) -> None:
    """Syncs on request, acks a request with its id after an event it caused, and closes on `bye`."""
    assert connection.request is not None and connection.request.headers["Authorization"] == "Bearer token-1"
    async for raw in connection:
        frame = json.loads(raw)
        if frame["type"] == "sync:request":
            await connection.send(json.dumps({"type": "sync:state", "assets": []}))
        elif frame["type"] == "bye":
            await connection.close()
        else:
            request_id = frame["requestId"]
            await connection.send(json.dumps({"type": "asset:created", "requestId": request_id}))
            await connection.send(json.dumps({"type": "ack", "requestId": request_id}))


@pytest.fixture
async def gateway() -> AsyncIterator[str]:
    async with serve(_space, "127.0.0.1", 0) as server:
        port = next(iter(server.sockets)).getsockname()[1]
        yield f"http://127.0.0.1:{port}"


async def test_a_peer_connects_synced_and_a_call_returns_the_answer_not_the_event_it_caused(gateway: str):
    peer = await SocketPeer.connect(gateway, "spc_1", "token-1")

    answer = await peer.call("asset:create", name="Fox")

    assert answer["type"] == "ack"
    assert [frame["type"] for frame in peer.frames] == ["sync:state", "asset:created", "ack"]
    await peer.close()


async def test_waiting_on_a_socket_that_closes_fails_at_once(gateway: str):
    peer = await SocketPeer.connect(gateway, "spc_1", "token-1")

    await peer.send({"type": "bye"})

    with pytest.raises(AssertionError, match="the socket closed"):
        await peer.wait_for(lambda frame: frame["type"] == "never")
    assert peer.closed.is_set()
    await peer.close()
