"""The REST reads beside the socket: a space's assets, one asset with its variants and lineage, and its events."""

from __future__ import annotations

import pytest

from makefx_contracts.space import MAX_SEQ


@pytest.fixture
def forked_space(shared_space, connect, add_variant):
    """A space with a hero (one variant) and a fork of that variant; returns the space and the ids involved."""

    async def make():
        space = await shared_space()
        owner = await connect(space.id, space.owner.access_token)
        created = await owner.mutate("asset:create", name="Hero", assetType="character")
        hero = (await owner.events_through(created["seq"]))[-1]["asset"]
        variant = await add_variant(space.id, hero["id"])
        forked = await owner.mutate("asset:fork", sourceVariantId=variant.id, name="Hero copy", assetType="character")
        fork = (await owner.events_through(forked["seq"]))[-1]
        return space, hero, variant, fork

    return make


async def test_the_assets_read_returns_the_full_state_with_its_seq(forked_space, client):
    space, hero, variant, fork = await forked_space()
    response = await client.get(f"/api/spaces/{space.id}/assets", headers=space.viewer.headers)
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["type"], body["spaceId"], body["seq"]) == ("space:snapshot", space.id, fork["seq"])
    assert {asset["id"] for asset in body["assets"]} == {hero["id"], fork["asset"]["id"]}
    assert {row["id"] for row in body["variants"]} == {variant.id, fork["variant"]["id"]}
    assert [row["id"] for row in body["lineage"]] == [fork["lineage"]["id"]]


async def test_one_asset_is_read_with_its_variants_and_lineage(forked_space, client, error):
    space, hero, variant, fork = await forked_space()
    copy = fork["asset"]["id"]
    response = await client.get(f"/api/spaces/{space.id}/assets/{copy}", headers=space.viewer.headers)
    assert response.status_code == 200, response.text
    detail = response.json()
    assert detail["asset"]["id"] == copy and detail["asset"]["name"] == "Hero copy"
    assert [row["id"] for row in detail["variants"]] == [fork["variant"]["id"]]
    (lineage,) = detail["lineage"]
    assert (lineage["relation_type"], lineage["parent_variant_id"], lineage["child_variant_id"]) == (
        "forked",
        variant.id,
        fork["variant"]["id"],
    )
    source = (await client.get(f"/api/spaces/{space.id}/assets/{hero['id']}", headers=space.viewer.headers)).json()
    assert [row["id"] for row in source["variants"]] == [variant.id]

    missing = await client.get(f"/api/spaces/{space.id}/assets/ast_missing", headers=space.viewer.headers)
    assert (missing.status_code, error(missing)["code"]) == (404, "NOT_FOUND")


async def test_the_events_read_returns_exactly_the_events_after_since_seq(shared_space, connect, client):
    space = await shared_space()
    owner = await connect(space.id, space.owner.access_token)
    for name in ("One", "Two", "Three", "Four", "Five"):
        last = await owner.mutate("asset:create", name=name, assetType="item")
    live = await owner.events_through(last["seq"])

    for since in (0, 2, last["seq"]):
        response = await client.get(
            f"/api/spaces/{space.id}/events", params={"sinceSeq": since}, headers=space.viewer.headers
        )
        assert response.status_code == 200, response.text
        body = response.json()
        assert (body["complete"], body["seq"]) == (True, last["seq"])
        assert body["events"] == [event for event in live if event["seq"] > since]

    limited = await client.get(
        f"/api/spaces/{space.id}/events", params={"sinceSeq": 1, "limit": 2}, headers=space.viewer.headers
    )
    assert [event["seq"] for event in limited.json()["events"]] == [2, 3]


async def test_since_seq_beyond_any_seq_answers_incomplete_not_a_failure(shared_space, client, error):
    space = await shared_space()
    for since in (10**6, MAX_SEQ):
        response = await client.get(
            f"/api/spaces/{space.id}/events", params={"sinceSeq": since}, headers=space.owner.headers
        )
        assert response.status_code == 200, response.text
        assert (response.json()["complete"], response.json()["events"]) == (False, [])
    too_big = await client.get(
        f"/api/spaces/{space.id}/events", params={"sinceSeq": MAX_SEQ + 1}, headers=space.owner.headers
    )
    assert (too_big.status_code, error(too_big)["code"]) == (422, "VALIDATION_ERROR")


async def test_space_reads_are_for_members_only(forked_space, client, register, error):
    space, hero, _, _ = await forked_space()
    stranger = await register("Stranger")
    for path in ("assets", f"assets/{hero['id']}", "events"):
        url = f"/api/spaces/{space.id}/{path}"
        refused = await client.get(url, headers=stranger.headers)
        assert (refused.status_code, error(refused)["code"]) == (404, "NOT_FOUND"), path
        assert (await client.get(url)).status_code == 401, path
        assert (await client.get(url, headers=space.viewer.headers)).status_code == 200, path
