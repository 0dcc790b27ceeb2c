"""The conversation over the socket: `chat:send` and `chat:clear` go to the space's owner, `chat:history` reads it back.

A refused `chat:send` is answered `chat:error {requestId, error, code}` (the original
product's shape, which the chat panel waits for); every other refusal stays an `error`.
"""

from __future__ import annotations

import pytest

from makefx_gateway.realtime.connection import CLOSE_NOT_A_MEMBER

CHAT_ERROR_KEYS = {"type", "requestId", "error", "code"}


async def history(peer, **fields) -> dict:
    reply = await peer.call("chat:history", answers=("chat:history", "error"), **fields)
    assert reply["type"] == "chat:history", reply
    return reply


async def test_a_message_sent_is_acknowledged_broadcast_to_the_space_and_read_back_in_order(shared_space, connect):
    space = await shared_space()
    editor = await connect(space.id, space.editor.access_token)
    viewer = await connect(space.id, space.viewer.access_token)

    first = await editor.mutate("chat:send", content="Make the hero taller")
    second = await editor.mutate("chat:send", content="And give them a cape", mode="actor")
    assert second["seq"] > first["seq"]

    for peer in (editor, viewer):
        posted = [event for event in await peer.events_through(second["seq"]) if event["type"] == "chat:message"]
        assert [event["seq"] for event in posted] == [first["seq"], second["seq"]]
        assert [event["requestId"] for event in posted] == [first["requestId"], second["requestId"]]
        assert [event["message"]["content"] for event in posted] == ["Make the hero taller", "And give them a cape"]
        assert [event["message"]["role"] for event in posted] == ["user", "user"]
        assert [event["message"]["created_by"] for event in posted] == [space.editor.id, space.editor.id]

    # A viewer may read the conversation: oldest first, the reply echoing its requestId.
    read = await history(viewer)
    assert set(read) == {"type", "requestId", "messages"} and read["requestId"].startswith("req-")
    assert [message["content"] for message in read["messages"]] == ["Make the hero taller", "And give them a cape"]
    assert [message["mode"] for message in read["messages"]] == ["advisor", "actor"]
    assert [message["id"] for message in read["messages"]] == [event["message"]["id"] for event in posted]

    newest = await history(viewer, limit=1)
    assert [message["content"] for message in newest["messages"]] == ["And give them a cape"]


async def test_clearing_the_chat_is_acknowledged_broadcast_and_empties_the_history(shared_space, connect):
    space = await shared_space()
    owner = await connect(space.id, space.owner.access_token)
    viewer = await connect(space.id, space.viewer.access_token)
    await owner.mutate("chat:send", content="Hello bot")
    assert len((await history(viewer))["messages"]) == 1

    cleared = await owner.mutate("chat:clear")
    event = (await viewer.events_through(cleared["seq"]))[-1]
    assert (event["type"], event["seq"], event["requestId"]) == ("chat:cleared", cleared["seq"], cleared["requestId"])
    assert (await history(viewer))["messages"] == []
    assert (await history(owner))["messages"] == []


async def test_a_viewers_chat_send_is_refused_with_chat_error_and_other_chat_changes_with_error(shared_space, connect):
    space = await shared_space()
    viewer = await connect(space.id, space.viewer.access_token)

    refusal = await viewer.call("chat:send", answers=("ack", "error", "chat:error"), content="Let me in")
    assert set(refusal) == CHAT_ERROR_KEYS, refusal
    assert (refusal["type"], refusal["code"]) == ("chat:error", "PERMISSION_DENIED")
    assert refusal["requestId"].startswith("req-") and refusal["error"]

    for type_, fields in (
        ("chat:clear", {}),
        ("approval:approve", {"approvalId": "apr_any"}),
        ("approval:reject", {"approvalId": "apr_any"}),
    ):
        refused = await viewer.call(type_, answers=("ack", "error", "chat:error"), **fields)
        assert (refused["type"], refused["code"]) == ("error", "PERMISSION_DENIED"), type_
        assert refused["details"]["role"] == "viewer", type_

    # Nothing reached the conversation, and the socket still answers.
    assert (await history(viewer))["messages"] == []
    assert viewer.events() == []


async def test_an_invalid_chat_send_is_answered_with_chat_error_and_the_socket_stays_open(shared_space, connect):
    space = await shared_space()
    editor = await connect(space.id, space.editor.access_token)

    for fields in ({"content": ""}, {"content": "hi", "mode": "dictator"}, {}):
        refusal = await editor.call("chat:send", answers=("ack", "error", "chat:error"), **fields)
        assert set(refusal) == CHAT_ERROR_KEYS, refusal
        assert (refusal["type"], refusal["code"]) == ("chat:error", "INVALID_MESSAGE"), fields

    sent = await editor.mutate("chat:send", content="Now properly")
    assert sent["seq"] == 1


async def test_a_member_removed_without_notice_can_no_longer_chat_and_their_socket_closes(shared_space, connect, store):
    space = await shared_space()
    editor = await connect(space.id, space.editor.access_token)
    await editor.mutate("chat:send", content="Before")
    # Removed in the database alone (a lost notice would leave the socket open): the role read per message refuses.
    async with store.transaction(write=True) as tx:
        await tx.remove_member(space.id, space.editor.id)

    refusal = await editor.call("chat:send", answers=("ack", "error", "chat:error"), content="After")
    assert (refusal["type"], refusal["code"]) == ("chat:error", "NOT_FOUND")
    await editor.closed.wait()
    assert editor.ws.close_code == CLOSE_NOT_A_MEMBER


@pytest.mark.parametrize("read", ["chat:history", "approval:list"])
async def test_a_member_removed_without_notice_can_no_longer_read_the_chat(shared_space, connect, store, read):
    space = await shared_space()
    viewer = await connect(space.id, space.viewer.access_token)
    async with store.transaction(write=True) as tx:
        await tx.remove_member(space.id, space.viewer.id)

    refused = await viewer.call(read, answers=("error", "chat:history", "approval:list"))
    assert (refused["type"], refused["code"]) == ("error", "NOT_FOUND")
    await viewer.closed.wait()
    assert viewer.ws.close_code == CLOSE_NOT_A_MEMBER
