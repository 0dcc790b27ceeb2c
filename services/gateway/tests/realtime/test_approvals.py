"""Approvals over the socket: any member lists what the bot proposed; an editor approves (it runs) or rejects it.

The bot's proposal is posted the way the chat service posts it: a `PostChatReply` with
tool calls, routed over the real bus to the space's owner replica.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest

from makefx_bus import Bus
from makefx_contracts.identity import Role
from makefx_contracts.space import Actor, PostChatReply, ToolCall
from makefx_router import ReplicaDirectory, SpaceRouter

Propose = Callable[..., Awaitable[int]]


@pytest.fixture
async def propose(replica, bus_client: Bus) -> AsyncIterator[Propose]:
    """Posts the bot's reply to a person's message with the given tool calls, as the chat service does; its seq."""
    directory = ReplicaDirectory(bus_client)
    await directory.start()
    router = SpaceRouter(bus_client, directory)

    async def post(space_id: str, reply_to: str, asker: str, *calls: ToolCall) -> int:
        message_id = uuid.uuid4().hex
        applied = await router.request(
            space_id,
            PostChatReply(
                space_id=space_id,
                request_id=message_id,
                actor=Actor(user_id=asker, role=Role.EDITOR),
                reply_to=reply_to,
                message_id=message_id,
                content="I can do that once you approve.",
                tool_calls=list(calls),
            ),
        )
        return applied.seq

    try:
        yield post
    finally:
        await directory.stop()


async def approvals(peer) -> dict:
    reply = await peer.call("approval:list", answers=("approval:list", "error"))
    assert reply["type"] == "approval:list", reply
    return reply


async def a_proposal(space, editor, propose: Propose, asset_id: str, *new_names: str) -> list[dict]:
    """The editor asks in actor mode; the bot proposes renaming the asset to each name. The approvals listed."""
    asked = await editor.mutate("chat:send", content="Rename the hero", mode="actor")
    message = (await editor.events_through(asked["seq"]))[-1]["message"]
    calls = [
        ToolCall(id=f"call_{index}", name="rename_asset", input={"assetId": asset_id, "name": name})
        for index, name in enumerate(new_names)
    ]
    seq = await propose(space.id, message["id"], space.editor.id, *calls)
    await editor.events_through(seq)
    return (await approvals(editor))["approvals"]


async def test_a_proposal_is_listed_for_every_member_and_approving_it_runs_it_as_the_approver(
    shared_space, connect, propose
):
    space = await shared_space()
    editor = await connect(space.id, space.editor.access_token)
    viewer = await connect(space.id, space.viewer.access_token)
    created = await editor.mutate("asset:create", name="Hero", assetType="character")
    hero = (await editor.events_through(created["seq"]))[-1]["asset"]

    pending = await a_proposal(space, editor, propose, hero["id"], "Heroine")
    (approval,) = pending
    assert (approval["tool_name"], approval["status"]) == ("rename_asset", "pending")
    seen_by_viewer = await approvals(viewer)
    assert set(seen_by_viewer) == {"type", "requestId", "approvals"}
    assert [row["id"] for row in seen_by_viewer["approvals"]] == [approval["id"]]

    approved = await editor.mutate("approval:approve", approvalId=approval["id"])
    events = await viewer.events_through(approved["seq"])
    renamed = [event for event in events if event["type"] == "asset:updated" and event["asset"]["id"] == hero["id"]]
    assert renamed and renamed[-1]["asset"]["name"] == "Heroine"
    assert renamed[-1]["actorId"] == space.editor.id
    decided = [event["approval"] for event in events if event["type"] == "approval:updated"]
    assert decided and decided[-1]["id"] == approval["id"] and decided[-1]["status"] == "executed"
    assert decided[-1]["decided_by"] == space.editor.id
    assert (await approvals(viewer))["approvals"] == []


async def test_rejecting_a_proposal_runs_nothing_and_takes_it_off_the_list(shared_space, connect, propose):
    space = await shared_space()
    owner = await connect(space.id, space.owner.access_token)
    editor = await connect(space.id, space.editor.access_token)
    created = await owner.mutate("asset:create", name="Hero", assetType="character")
    hero = (await owner.events_through(created["seq"]))[-1]["asset"]

    first, second = await a_proposal(space, editor, propose, hero["id"], "Villain", "Sidekick")
    rejected = await owner.mutate("approval:reject", approvalId=first["id"])
    events = await editor.events_through(rejected["seq"])
    decided = [event["approval"] for event in events if event["type"] == "approval:updated"]
    assert (decided[-1]["id"], decided[-1]["status"], decided[-1]["decided_by"]) == (
        first["id"],
        "rejected",
        space.owner.id,
    )
    assert not any(event["type"] == "asset:updated" for event in events)
    assert [row["id"] for row in (await approvals(editor))["approvals"]] == [second["id"]]
    assert [asset["name"] for asset in (await editor.sync())["assets"]] == ["Hero"]


async def test_deciding_an_approval_that_does_not_exist_is_an_error_not_a_chat_error(shared_space, connect):
    space = await shared_space()
    editor = await connect(space.id, space.editor.access_token)
    for type_ in ("approval:approve", "approval:reject"):
        refused = await editor.call(type_, answers=("ack", "error", "chat:error"), approvalId="apr_missing")
        assert (refused["type"], refused["code"]) == ("error", "NOT_FOUND"), type_
        assert refused["requestId"].startswith("req-")
