"""Presence over real sockets: who is in the space and what each is viewing, across gateways sharing one NATS."""

from __future__ import annotations


def present(frame: dict) -> dict[str, str | None]:
    """user id -> the asset that user is viewing, from a frame carrying presence."""
    return {entry["userId"]: entry["viewing"] for entry in frame["presence"]}


def shows(expected: dict[str, str | None]):
    return lambda frame: frame["type"] == "presence:update" and present(frame) == expected


async def test_clients_see_who_is_in_the_space_and_what_each_is_viewing(shared_space, connect):
    space = await shared_space()
    owner = await connect(space.id, space.owner.access_token)
    editor = await connect(space.id, space.editor.access_token)
    await owner.wait_for(shows({space.owner.id: None, space.editor.id: None}))
    ack = await owner.mutate("asset:create", name="Hero", assetType="character")
    hero = (await owner.events_through(ack["seq"]))[-1]["asset"]["id"]

    viewing = await editor.call("presence:update", viewing=hero)
    assert viewing["type"] == "ack"
    seen = await owner.wait_for(shows({space.owner.id: None, space.editor.id: hero}))
    assert {entry["name"] for entry in seen["presence"]} == {"Owner", "Editor"}

    await editor.close()
    await owner.wait_for(shows({space.owner.id: None}))


async def test_one_user_with_two_sockets_is_one_entry_counting_both(shared_space, connect):
    space = await shared_space()
    first = await connect(space.id, space.owner.access_token)
    second = await connect(space.id, space.owner.access_token)
    both = await first.wait_for(
        lambda frame: frame["type"] == "presence:update" and frame["presence"][0]["connections"] == 2
    )
    assert len(both["presence"]) == 1
    await second.close()
    await first.wait_for(lambda frame: frame["type"] == "presence:update" and frame["presence"][0]["connections"] == 1)


async def test_presence_and_events_cross_gateways_sharing_one_nats(shared_space, connect, start_gateway, settings):
    other_gateway = await start_gateway(settings)
    space = await shared_space()
    here = await connect(space.id, space.owner.access_token)
    there = await connect(space.id, space.editor.access_token, url=other_gateway.url)
    everyone = {space.owner.id: None, space.editor.id: None}

    await here.wait_for(shows(everyone))
    # Well before the periodic beacon (every 5 s): the gateway already there answers a newcomer's beacon.
    await there.wait_for(shows(everyone), timeout=3)

    ack = await here.mutate("asset:create", name="Hero", assetType="character")
    hero = (await there.events_through(ack["seq"]))[-1]
    assert (hero["type"], hero["seq"]) == ("asset:created", ack["seq"])
    back = await there.mutate("asset:update", assetId=hero["asset"]["id"], changes={"name": "Heroine"})
    assert (await here.events_through(back["seq"]))[-1]["asset"]["name"] == "Heroine"
    assert here.events() == there.events()

    await there.call("presence:update", viewing=hero["asset"]["id"])
    await here.wait_for(shows({space.owner.id: None, space.editor.id: hero["asset"]["id"]}))

    await there.close()
    await here.wait_for(shows({space.owner.id: None}))
    # Back on the other gateway: news again to this one, which answers at once.
    again = await connect(space.id, space.viewer.access_token, url=other_gateway.url)
    await again.wait_for(shows({space.owner.id: None, space.viewer.id: None}), timeout=3)
