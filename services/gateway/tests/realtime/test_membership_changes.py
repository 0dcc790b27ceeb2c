"""Open sockets follow membership changes at once, on every gateway: nobody keeps a space they lost.

A removed member's sockets close with 4403, a deleted space's with 4404, and a member whose
role changed is told (`member:role`) and held to it. When the notice of a change is lost
(simulated by changing the database behind the gateways' back), the role read for each
sync, read and change still refuses, and the socket closes the same way.
"""

from __future__ import annotations

import pytest

from makefx_contracts.identity import MembershipChanged, Role
from makefx_gateway.realtime.connection import CLOSE_NOT_A_MEMBER, CLOSE_SPACE_DELETED

pytestmark = pytest.mark.usefixtures("gateway")


def members_url(space_id: str, user_id: str) -> str:
    return f"/api/spaces/{space_id}/members/{user_id}"


async def closed_with(peer) -> tuple[int | None, str | None]:
    await peer.closed.wait()
    return peer.ws.close_code, peer.ws.close_reason


async def test_a_removed_members_sockets_close_with_4403_on_every_gateway_and_get_no_later_event(
    shared_space, connect, start_gateway, settings, client
):
    other_gateway = await start_gateway(settings)
    space = await shared_space()
    owner = await connect(space.id, space.owner.access_token)
    viewer = await connect(space.id, space.viewer.access_token)
    here = await connect(space.id, space.editor.access_token)
    there = await connect(space.id, space.editor.access_token, url=other_gateway.url)
    before = await owner.mutate("asset:create", name="Hero", assetType="character")
    await there.events_through(before["seq"])

    removed = await client.delete(members_url(space.id, space.editor.id), headers=space.owner.headers)
    assert removed.status_code == 204, removed.text

    for peer in (here, there):
        assert await closed_with(peer) == (CLOSE_NOT_A_MEMBER, "you are no longer a member of this space")
    after = await owner.mutate("asset:create", name="Secret", assetType="item")
    # The members who stayed see it, on an open socket; the removed one saw nothing after the removal.
    assert (await viewer.events_through(after["seq"]))[-1]["asset"]["name"] == "Secret"
    for peer in (here, there):
        assert [event["seq"] for event in peer.events()] == [before["seq"]]
    assert not viewer.closed.is_set() and not owner.closed.is_set()


async def test_a_member_who_leaves_has_their_open_sockets_closed(shared_space, connect, client):
    space = await shared_space()
    owner = await connect(space.id, space.owner.access_token)
    viewer = await connect(space.id, space.viewer.access_token)

    left = await client.delete(members_url(space.id, space.viewer.id), headers=space.viewer.headers)
    assert left.status_code == 204, left.text

    assert (await closed_with(viewer))[0] == CLOSE_NOT_A_MEMBER
    ack = await owner.mutate("asset:create", name="Hero", assetType="character")
    assert [event["seq"] for event in await owner.events_through(ack["seq"])] == [ack["seq"]]


async def test_deleting_a_space_closes_every_socket_of_it_with_4404_on_every_gateway(
    shared_space, connect, start_gateway, settings, client
):
    other_gateway = await start_gateway(settings)
    space, other = await shared_space(), await shared_space()
    peers = [
        await connect(space.id, space.owner.access_token),
        await connect(space.id, space.viewer.access_token),
        await connect(space.id, space.editor.access_token, url=other_gateway.url),
    ]
    elsewhere = await connect(other.id, other.editor.access_token, url=other_gateway.url)

    deleted = await client.delete(f"/api/spaces/{space.id}", headers=space.owner.headers)
    assert deleted.status_code == 204, deleted.text

    for peer in peers:
        assert await closed_with(peer) == (CLOSE_SPACE_DELETED, "this space was deleted")
    # Another space's sockets, even on the same gateways, carry on.
    ack = await elsewhere.mutate("asset:create", name="Hero", assetType="character")
    assert ack["seq"] == 1 and not elsewhere.closed.is_set()


async def test_a_demoted_member_is_told_their_role_on_every_socket_and_their_next_change_is_refused(
    shared_space, connect, start_gateway, settings, client
):
    other_gateway = await start_gateway(settings)
    space = await shared_space()
    owner = await connect(space.id, space.owner.access_token)
    here = await connect(space.id, space.editor.access_token)
    there = await connect(space.id, space.editor.access_token, url=other_gateway.url)
    await here.mutate("asset:create", name="Hero", assetType="character")

    demoted = await client.patch(
        members_url(space.id, space.editor.id), json={"role": "viewer"}, headers=space.owner.headers
    )
    assert demoted.status_code == 200, demoted.text

    for peer in (here, there):
        assert await peer.wait_for(lambda frame: frame["type"] == "member:role") == {
            "type": "member:role",
            "role": "viewer",
        }
    refusal = await there.call("asset:create", name="Sneaky", assetType="item")
    assert (refusal["type"], refusal["code"], refusal["details"]["role"]) == ("error", "PERMISSION_DENIED", "viewer")
    # Only the member whose role changed is told; and a viewer still watches the space.
    assert [frame for frame in owner.frames if frame["type"] == "member:role"] == []
    ack = await owner.mutate("asset:create", name="Villain", assetType="character")
    assert (await there.events_through(ack["seq"]))[-1]["asset"]["name"] == "Villain"

    promoted = await client.patch(
        members_url(space.id, space.editor.id), json={"role": "editor"}, headers=space.owner.headers
    )
    assert promoted.status_code == 200, promoted.text
    start = len(here.frames)
    assert (await here.wait_for(lambda frame: frame["type"] == "member:role", start=start))["role"] == "editor"
    await here.mutate("asset:create", name="Sidekick", assetType="character")


async def test_a_sync_by_a_member_removed_without_notice_is_refused_and_the_socket_closes_with_4403(
    shared_space, connect, store
):
    space = await shared_space()
    owner = await connect(space.id, space.owner.access_token)
    editor = await connect(space.id, space.editor.access_token)
    viewer = await connect(space.id, space.viewer.access_token)
    ack = await owner.mutate("asset:create", name="Hero", assetType="character")
    # Removed in the database alone: no gateway hears of it, as if the notices were lost.
    async with store.transaction(write=True) as tx:
        await tx.remove_member(space.id, space.editor.id)
        await tx.remove_member(space.id, space.viewer.id)

    # A resume from a seq (what a reconnecting page sends) and a full sync alike.
    for peer, since_seq in ((editor, ack["seq"] - 1), (viewer, None)):
        start = len(peer.frames)
        refusal = await peer.call("sync:request", answers=("error", "sync:state"), sinceSeq=since_seq)
        assert (refusal["type"], refusal["code"]) == ("error", "NOT_FOUND")
        assert refusal["message"] == "you are no longer a member of this space"
        assert await closed_with(peer) == (CLOSE_NOT_A_MEMBER, "you are no longer a member of this space")
        assert [frame["type"] for frame in peer.frames[start:] if frame["type"] != "presence:update"] == ["error"]


async def test_a_notice_that_arrives_after_a_later_change_leaves_the_socket_with_the_role_it_has_now(
    shared_space, connect, bus_client, store
):
    """Removed on one gateway, added back on another: the removal's notice may come last. The database decides."""
    space = await shared_space()
    owner = await connect(space.id, space.owner.access_token)
    editor = await connect(space.id, space.editor.access_token)
    viewer = await connect(space.id, space.viewer.access_token)

    # Notices of changes since undone: the editor is an editor in the database.
    await bus_client.publish(MembershipChanged(space_id=space.id, user_id=space.editor.id, role=None))
    await bus_client.publish(MembershipChanged(space_id=space.id, user_id=space.editor.id, role=Role.VIEWER))
    # Then a notice that holds: a room handles one publisher's notices in order, so once it
    # closed the viewer's socket, it has handled the two before it.
    async with store.transaction(write=True) as tx:
        await tx.remove_member(space.id, space.viewer.id)
    await bus_client.publish(MembershipChanged(space_id=space.id, user_id=space.viewer.id, role=None))
    assert (await closed_with(viewer))[0] == CLOSE_NOT_A_MEMBER

    ack = await editor.mutate("asset:create", name="Still here", assetType="item")
    assert (await owner.events_through(ack["seq"]))[-1]["asset"]["name"] == "Still here"
    assert not editor.closed.is_set()
    assert {frame["role"] for frame in editor.frames if frame["type"] == "member:role"} <= {"editor"}
