"""Mutations over real sockets: acknowledged to the sender, broadcast in seq order to everyone, resumable by seq."""

from __future__ import annotations

import asyncio
import json


def seqs(events: list[dict]) -> list[int]:
    return [event["seq"] for event in events]


async def test_two_clients_see_each_others_mutations_in_order_each_acknowledged_with_its_seq(
    shared_space, connect, add_variant
):
    space = await shared_space()
    owner = await connect(space.id, space.owner.access_token)
    editor = await connect(space.id, space.editor.access_token)
    acks: list[tuple[str, dict]] = []

    async def mutate(peer, type_: str, **fields) -> dict:
        ack = await peer.mutate(type_, **fields)
        acks.append((type_, ack))
        return ack

    created = await mutate(owner, "asset:create", name="Hero", assetType="character")
    hero = (await owner.wait_for(lambda f: f.get("requestId") == created["requestId"] and "asset" in f))["asset"]
    await mutate(editor, "asset:update", assetId=hero["id"], changes={"name": "Heroine"})
    await mutate(owner, "asset:update", assetId=hero["id"], changes={"position": {"x": 10, "y": -4.5}})
    await mutate(editor, "asset:update", assetId=hero["id"], changes={"tags": ["brave", "tall"]})
    scene = await mutate(editor, "asset:create", name="Moon", assetType="scene", parentAssetId=hero["id"])
    variant = await add_variant(space.id, hero["id"])
    await mutate(owner, "variant:star", variantId=variant.id, starred=True)
    await mutate(editor, "asset:setActive", assetId=hero["id"], variantId=variant.id)
    await mutate(owner, "asset:fork", sourceVariantId=variant.id, name="Hero copy", assetType="character")

    last = acks[-1][1]["seq"]
    seen_by_owner = await owner.events_through(last)
    seen_by_editor = await editor.events_through(last)

    assert seen_by_owner == seen_by_editor
    assert seqs(seen_by_owner) == list(range(1, last + 1))
    assert [event["type"] for event in seen_by_owner] == [
        "asset:created",
        "asset:updated",
        "asset:updated",
        "asset:updated",
        "asset:created",
        "variant:created",
        "variant:updated",
        "asset:updated",
        "asset:forked",
    ]
    by_request = {event.get("requestId"): event for event in seen_by_owner}
    for type_, ack in acks:
        assert by_request[ack["requestId"]]["seq"] == ack["seq"], type_
    final = {event["asset"]["id"]: event["asset"] for event in seen_by_owner if "asset" in event}
    assert final[hero["id"]]["name"] == "Heroine"
    assert (final[hero["id"]]["position_x"], final[hero["id"]]["position_y"]) == (10, -4.5)
    assert json.loads(final[hero["id"]]["tags"]) == ["brave", "tall"]
    assert final[hero["id"]]["active_variant_id"] == variant.id
    assert by_request[scene["requestId"]]["asset"]["parent_asset_id"] == hero["id"]
    forked = seen_by_owner[-1]
    assert forked["lineage"]["relation_type"] == "forked" and forked["lineage"]["parent_variant_id"] == variant.id
    starred = seen_by_owner[6]
    assert starred["variant"]["starred"] == 1 and starred["actorId"] == space.owner.id


async def test_a_client_reconnecting_with_since_seq_gets_exactly_the_missed_events_then_live_ones(
    shared_space, connect
):
    space = await shared_space()
    owner = await connect(space.id, space.owner.access_token)
    editor = await connect(space.id, space.editor.access_token)
    for name in ("One", "Two", "Three"):
        ack = await owner.mutate("asset:create", name=name, assetType="item")
    left_at = ack["seq"]
    await editor.events_through(left_at)
    await editor.close()

    for name in ("Four", "Five", "Six", "Seven", "Eight"):
        ack = await owner.mutate("asset:create", name=name, assetType="item")
    missed_through = ack["seq"]

    back = await connect(space.id, space.editor.access_token, sync=False)
    await back.send({"type": "sync:request", "sinceSeq": left_at})
    missed = await back.events_through(missed_through)
    assert seqs(missed) == list(range(left_at + 1, missed_through + 1))
    assert [event["asset"]["name"] for event in missed] == ["Four", "Five", "Six", "Seven", "Eight"]

    live = await owner.mutate("asset:create", name="Nine", assetType="item")
    assert seqs(await back.events_through(live["seq"])) == list(range(left_at + 1, live["seq"] + 1))
    assert not any(frame["type"] == "sync:state" for frame in back.frames)


async def test_mutations_racing_a_resume_arrive_once_each_with_no_gap(shared_space, connect):
    space = await shared_space()
    owner = await connect(space.id, space.owner.access_token)
    for name in ("One", "Two"):
        await owner.mutate("asset:create", name=name, assetType="item")

    back = await connect(space.id, space.editor.access_token, sync=False)

    async def burst() -> int:
        for index in range(15):
            ack = await owner.mutate("asset:create", name=f"Racer {index}", assetType="item")
        return ack["seq"]

    last, _ = await asyncio.gather(burst(), back.send({"type": "sync:request", "sinceSeq": 1}))
    assert seqs(await back.events_through(last)) == list(range(2, last + 1))


async def test_since_seq_at_the_current_seq_sends_nothing_and_no_since_seq_sends_the_full_state(shared_space, connect):
    space = await shared_space()
    owner = await connect(space.id, space.owner.access_token)
    for name in ("One", "Two"):
        ack = await owner.mutate("asset:create", name=name, assetType="item")

    viewer = await connect(space.id, space.viewer.access_token, sync=False)
    await viewer.send({"type": "sync:request", "sinceSeq": ack["seq"]})
    # The socket answers in order: the next frame after an empty resume is the reply to what follows.
    await viewer.send({"type": "presence:update", "requestId": "after-resume"})
    assert await viewer.next() == {"type": "ack", "requestId": "after-resume", "seq": ack["seq"]}

    state = await viewer.sync(None)
    assert state["seq"] == ack["seq"]
    assert sorted(asset["name"] for asset in state["assets"]) == ["One", "Two"]
    assert {entry["userId"] for entry in state["presence"]} == {space.owner.id, space.viewer.id}


async def test_a_resume_from_further_back_than_the_outbox_holds_gets_the_full_state_instead(
    shared_space, connect, start_gateway, make_settings
):
    small = await start_gateway(make_settings(socket_outbox_limit=16))
    space = await shared_space()
    owner = await connect(space.id, space.owner.access_token, url=small.url)
    for index in range(40):
        ack = await owner.mutate("asset:create", name=f"Asset {index}", assetType="item")

    back = await connect(space.id, space.editor.access_token, url=small.url, sync=False)
    await back.send({"type": "sync:request", "sinceSeq": 1})
    state = await back.wait_for(lambda frame: frame["type"] == "sync:state")
    assert state["seq"] == ack["seq"] and len(state["assets"]) == 40
    assert not back.closed.is_set()
