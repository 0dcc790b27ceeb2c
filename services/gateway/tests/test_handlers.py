"""Identity queries answered by a running gateway over real NATS."""

from __future__ import annotations

import pytest

from makefx_contracts.errors import ErrorCode, NotFound
from makefx_contracts.identity import GetMembership, GetUser, Membership, Role, UserProfile


async def test_membership_of_a_member_is_their_role(client, shared_space, bus_client) -> None:
    shared = await shared_space()
    for account, role in ((shared.owner, Role.OWNER), (shared.editor, Role.EDITOR), (shared.viewer, Role.VIEWER)):
        answer = await bus_client.request(GetMembership(space_id=shared.id, user_id=account.id))
        assert answer == Membership(space_id=shared.id, user_id=account.id, role=role)


async def test_membership_of_a_non_member_has_no_role(client, shared_space, register, bus_client) -> None:
    shared = await shared_space()
    stranger = await register("Stranger")
    answer = await bus_client.request(GetMembership(space_id=shared.id, user_id=stranger.id))
    assert answer.role is None
    unknown_space = await bus_client.request(GetMembership(space_id="spc_unknown", user_id=stranger.id))
    assert unknown_space.role is None


async def test_membership_follows_role_changes_and_removal(client, shared_space, bus_client) -> None:
    shared = await shared_space()
    url = f"/api/spaces/{shared.id}/members/{shared.viewer.id}"
    await client.patch(url, json={"role": "editor"}, headers=shared.owner.headers)
    assert (await bus_client.request(GetMembership(space_id=shared.id, user_id=shared.viewer.id))).role is Role.EDITOR
    await client.delete(url, headers=shared.owner.headers)
    assert (await bus_client.request(GetMembership(space_id=shared.id, user_id=shared.viewer.id))).role is None


async def test_a_known_user_is_answered_with_their_profile(client, register, bus_client) -> None:
    ada = await register("Ada")
    answer = await bus_client.request(GetUser(user_id=ada.id))
    assert answer == UserProfile(id=ada.id, email=ada.email, name="Ada")


async def test_an_unknown_user_is_a_typed_not_found(client, bus_client) -> None:
    with pytest.raises(NotFound) as caught:
        await bus_client.request(GetUser(user_id="usr_nobody"))
    assert caught.value.code is ErrorCode.NOT_FOUND
    assert caught.value.details == {"userId": "usr_nobody"}
