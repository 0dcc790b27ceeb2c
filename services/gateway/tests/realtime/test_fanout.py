"""The fan-out: one event subscription per space per gateway, and a slow socket never holds the others back.

Beside the events, each space's job progress and chat deltas reach its sockets, and only its sockets.
"""

from __future__ import annotations

import asyncio
import json

import nats
import websockets

from makefx_contracts.chat import ChatDelta
from makefx_contracts.generation import JobProgress
from makefx_contracts.rows import VariantStatus
from makefx_contracts.subjects import CHAT_DELTAS, SPACE_EVENTS, STREAM_SPACE_EVENTS
from makefx_gateway.realtime.connection import CLOSE_TOO_SLOW


async def test_a_gateway_consumes_each_space_once_however_many_sockets_it_holds(shared_space, connect, bus_client):
    first, second = await shared_space(), await shared_space()
    sockets = [
        await connect(first.id, account.access_token)
        for account in (first.owner, first.editor, first.viewer, first.owner, first.editor)
    ]
    sockets += [await connect(second.id, account.access_token) for account in (second.owner, second.viewer)]

    async def consumers_of(space_id: str) -> list:
        subject = SPACE_EVENTS.fill(space_id=space_id)
        return [
            consumer
            for consumer in await bus_client.js.consumers_info(STREAM_SPACE_EVENTS)
            if consumer.config.filter_subject == subject
        ]

    assert len(await consumers_of(first.id)) == 1
    assert len(await consumers_of(second.id)) == 1
    # One consumer, yet every socket gets every event.
    ack = await sockets[0].mutate("asset:create", name="Hero", assetType="character")
    for peer in sockets[:5]:
        assert [event["seq"] for event in await peer.events_through(ack["seq"])] == [ack["seq"]]

    (consumer,) = await consumers_of(first.id)
    deleted = asyncio.Event()

    async def on_deleted(_) -> None:
        deleted.set()

    # The server announces a consumer's deletion (a JetStream advisory): wait for that, not a poll.
    await bus_client.nats.subscribe(
        f"$JS.EVENT.ADVISORY.CONSUMER.DELETED.{STREAM_SPACE_EVENTS}.{consumer.name}", cb=on_deleted
    )
    await bus_client.nats.flush()
    for peer in sockets[:4]:
        await peer.close()
    assert [found.name for found in await consumers_of(first.id)] == [consumer.name]
    await sockets[4].close()

    await asyncio.wait_for(deleted.wait(), 30)
    assert await consumers_of(first.id) == []
    assert len(await consumers_of(second.id)) == 1


async def test_a_socket_that_stops_reading_is_closed_with_4008_while_the_others_miss_nothing(
    shared_space, connect, start_gateway, make_settings
):
    gateway = await start_gateway(make_settings(socket_outbox_limit=16))
    space = await shared_space()
    owner = await connect(space.id, space.owner.access_token, url=gateway.url)
    editor = await connect(space.id, space.editor.access_token, url=gateway.url)
    # A space whose state is large (~3 kB an asset), so that each sync:state is a big frame.
    tags = [f"{index:02d}-" + "t" * 57 for index in range(50)]
    for index in range(40):
        ack = await owner.mutate("asset:create", name=f"{index:03d} " + "n" * 196, assetType="item")
        asset_id = (await owner.events_through(ack["seq"]))[-1]["asset"]["id"]
        await owner.mutate("asset:update", assetId=asset_id, changes={"tags": tags})

    # The client takes one frame into its buffer and then stops reading from the network. Without
    # compression, which would shrink these repetitive frames a hundredfold, what it is sent fills the network.
    url = gateway.url.replace("http://", "ws://") + f"/api/spaces/{space.id}/ws"
    slow = await websockets.connect(
        url,
        additional_headers={"Authorization": f"Bearer {space.viewer.access_token}"},
        max_queue=1,
        max_size=None,
        compression=None,
    )
    joined = await owner.wait_for(lambda frame: frame["type"] == "presence:update" and len(frame["presence"]) == 3)
    # Its own requests fill the socket (about 150 kB a sync:state) until its outbox overflows.
    for _ in range(100):
        await slow.send(json.dumps({"type": "sync:request"}))
    # Meanwhile the space changes, and the other sockets keep up with every change.
    for index in range(20):
        last = await editor.mutate("asset:update", assetId=asset_id, changes={"name": f"Renamed {index}"})

    # The gateway gives the slow socket up: it leaves the space's presence...
    await owner.wait_for(
        lambda frame: frame["type"] == "presence:update" and len(frame["presence"]) == 2,
        start=owner.frames.index(joined),
        timeout=20,
    )
    # ...and once the client reads again, what was sent ends with the close code.
    received = 0
    async with asyncio.timeout(10):
        try:
            async for _ in slow:
                received += 1
        except websockets.ConnectionClosed:
            pass
    assert slow.close_code == CLOSE_TOO_SLOW and "too slow" in slow.close_reason
    assert received < 100

    for peer in (owner, editor):
        seqs = [event["seq"] for event in await peer.events_through(last["seq"])]
        assert seqs == list(range(1, last["seq"] + 1))
        assert not peer.closed.is_set()


async def test_job_progress_reaches_every_synced_socket_of_the_space(shared_space, connect, nats_server):
    space = await shared_space()
    owner = await connect(space.id, space.owner.access_token)
    editor = await connect(space.id, space.editor.access_token)
    progress = JobProgress(
        space_id=space.id,
        job_id="var_1:1",
        variant_id="var_1",
        attempt=1,
        status=VariantStatus.PROCESSING,
        progress=0.4,
    )
    publisher = await nats.connect(nats_server.url)
    try:
        await publisher.publish(progress.address(), progress.to_json())
        for peer in (owner, editor):
            frame = await peer.wait_for(lambda frame: frame["type"] == "job:progress", timeout=30)
            assert (frame["jobId"], frame["status"], frame["progress"]) == ("var_1:1", "processing", 0.4)
    finally:
        await publisher.close()


async def test_chat_deltas_reach_every_socket_of_the_space_and_none_of_another(shared_space, connect, nats_server):
    space, other = await shared_space(), await shared_space()
    owner = await connect(space.id, space.owner.access_token)
    viewer = await connect(space.id, space.viewer.access_token)
    elsewhere = await connect(other.id, other.owner.access_token)
    publisher = await nats.connect(nats_server.url)
    try:
        ours = ChatDelta(message_id="msg_ours", index=0, text="Once upon")
        await publisher.publish(CHAT_DELTAS.fill(space_id=space.id), ours.to_json())
        for peer in (owner, viewer):
            frame = await peer.wait_for(lambda frame: frame["type"] == "chat:delta", timeout=30)
            assert frame == {"type": "chat:delta", "messageId": "msg_ours", "index": 0, "text": "Once upon"}

        # The room's relay has run for `ours`; anything it gave this socket is queued ahead of what follows.
        theirs = ChatDelta(message_id="msg_theirs", index=0, text="Elsewhere")
        await publisher.publish(CHAT_DELTAS.fill(space_id=other.id), theirs.to_json())
        await elsewhere.wait_for(lambda frame: frame["type"] == "chat:delta", timeout=30)
        assert [frame["messageId"] for frame in elsewhere.frames if frame["type"] == "chat:delta"] == ["msg_theirs"]
    finally:
        await publisher.close()
