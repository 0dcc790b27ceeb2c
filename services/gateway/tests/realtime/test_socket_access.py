"""Who may open a space's socket (checked at the upgrade) and what each role may do through it."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
import websockets

from makefx_auth import AccessTokens, SigningKeys


async def refused(url: str, **options) -> tuple[int, dict]:
    """The HTTP status and error body of an upgrade the gateway refuses."""
    with pytest.raises(websockets.InvalidStatus) as refusal:
        async with websockets.connect(url, **options):
            pass
    response = refusal.value.response
    return response.status_code, json.loads(response.body)["error"]


async def accepted(url: str, **options) -> dict:
    """Opens the socket, syncs, and returns the `sync:state`."""
    async with websockets.connect(url, **options) as ws:
        await ws.send(json.dumps({"type": "sync:request"}))
        while (frame := json.loads(await ws.recv()))["type"] != "sync:state":
            pass
        return frame


def bearer(token: str) -> dict:
    return {"additional_headers": {"Authorization": f"Bearer {token}"}}


async def test_the_access_token_is_taken_from_the_header_the_cookie_or_the_query(shared_space, socket_url, settings):
    space = await shared_space()
    token = space.viewer.access_token
    by_header = await accepted(socket_url(space.id), **bearer(token))
    by_cookie = await accepted(
        socket_url(space.id), additional_headers={"Cookie": f"{settings.access_cookie_name}={token}"}
    )
    by_query = await accepted(socket_url(space.id, access_token=token))
    assert by_header["seq"] == by_cookie["seq"] == by_query["seq"] == 0


async def test_an_upgrade_without_a_valid_live_token_is_refused_with_401(
    shared_space, socket_url, access_tokens, client, settings
):
    space = await shared_space()
    url = socket_url(space.id)
    claims = access_tokens.verify(space.editor.access_token)

    status, error = await refused(url)
    assert (status, error["code"]) == (401, "UNAUTHENTICATED")

    forger = AccessTokens(
        SigningKeys.from_config("HS256", secret="another-secret-that-is-long-enough-to-sign"),
        issuer=settings.jwt_issuer,
        ttl_seconds=600,
    )
    forged = forger.issue(claims.user_id, claims.session_id).token
    assert (await refused(url, **bearer(forged)))[0] == 401
    assert (await refused(socket_url(space.id, access_token=forged)))[0] == 401

    expired = access_tokens.issue(claims.user_id, claims.session_id, now=datetime.now(UTC) - timedelta(hours=1))
    status, error = await refused(url, **bearer(expired.token))
    assert (status, error["details"].get("reason")) == (401, "expired")

    assert (await refused(url, **bearer("not-a-jwt-at-all")))[0] == 401

    assert (await client.post("/api/auth/logout", headers=space.editor.headers)).status_code == 204
    status, error = await refused(url, **bearer(space.editor.access_token))
    assert (status, error["details"].get("reason")) == (401, "revoked")


async def test_an_upgrade_to_a_space_the_caller_is_not_a_member_of_is_refused_with_404(
    shared_space, socket_url, register
):
    space = await shared_space()
    other = await shared_space()
    stranger = await register("Stranger")

    status, error = await refused(socket_url(space.id), **bearer(stranger.access_token))
    assert (status, error["code"]) == (404, "NOT_FOUND")
    # A member of another space: their token is genuine, but not for this space.
    assert (await refused(socket_url(space.id), **bearer(other.owner.access_token)))[0] == 404
    assert (await refused(socket_url("spc_does_not_exist"), **bearer(space.owner.access_token)))[0] == 404


async def test_a_viewers_mutation_is_refused_and_the_socket_stays_open(shared_space, connect):
    space = await shared_space()
    owner = await connect(space.id, space.owner.access_token)
    viewer = await connect(space.id, space.viewer.access_token)
    hero = await owner.mutate("asset:create", name="Hero", assetType="character")

    refusal = await viewer.call("asset:create", name="Sneaky", assetType="item")
    assert refusal["type"] == "error" and refusal["code"] == "PERMISSION_DENIED"
    assert refusal["requestId"] and refusal["details"]["role"] == "viewer"

    # Still open, still reading: the viewer syncs and sees the owner's work but nothing of its own.
    state = await viewer.sync()
    assert [asset["name"] for asset in state["assets"]] == ["Hero"] and state["seq"] == hero["seq"]
    later = await owner.mutate("asset:update", assetId=state["assets"][0]["id"], changes={"name": "Hero 2"})
    assert (await viewer.events_through(later["seq"]))[-1]["asset"]["name"] == "Hero 2"


async def test_only_the_owner_may_delete_an_asset(shared_space, connect, add_variant):
    space = await shared_space()
    owner = await connect(space.id, space.owner.access_token)
    editor = await connect(space.id, space.editor.access_token)
    await editor.mutate("asset:create", name="Doomed", assetType="item")
    asset = (await editor.wait_for(lambda frame: frame["type"] == "asset:created"))["asset"]
    variant = await add_variant(space.id, asset["id"])

    for type_, fields in (("asset:delete", {"assetId": asset["id"]}), ("variant:delete", {"variantId": variant.id})):
        refusal = await editor.call(type_, **fields)
        assert refusal["type"] == "error" and refusal["code"] == "PERMISSION_DENIED", type_
        # Refused by the space's owner replica, not the gateway: it names the role needed.
        assert refusal["details"]["needs"] == "owner"

    deleted = await owner.mutate("asset:delete", assetId=asset["id"])
    event = (await editor.events_through(deleted["seq"]))[-1]
    assert (event["type"], event["assetId"]) == ("asset:deleted", asset["id"])
    assert (await editor.sync())["assets"] == []
