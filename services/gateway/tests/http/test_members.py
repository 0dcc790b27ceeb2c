"""`/api/spaces/{id}/members` over real HTTP: who may see and change members; the last-owner rule."""

from __future__ import annotations

import asyncio

import pytest

from makefx_contracts.identity import MembershipChanged, Role
from makefx_contracts.subjects import MEMBERSHIP


def members_url(space_id: str, user_id: str = "") -> str:
    return f"/api/spaces/{space_id}/members" + (f"/{user_id}" if user_id else "")


@pytest.mark.parametrize("who", ["owner", "editor", "viewer"])
async def test_every_member_sees_the_members(client, shared_space, who: str) -> None:
    shared = await shared_space()
    response = await client.get(members_url(shared.id), headers=getattr(shared, who).headers)
    assert response.status_code == 200
    members = response.json()["members"]
    assert [(member["userId"], member["role"]) for member in members] == [
        (shared.owner.id, "owner"),
        (shared.editor.id, "editor"),
        (shared.viewer.id, "viewer"),
    ]
    assert set(members[0]) == {"userId", "email", "name", "role", "createdAt", "updatedAt"}
    assert members[0]["email"] == shared.owner.email


async def test_an_owner_adds_a_member_by_email(client, shared_space, register) -> None:
    shared = await shared_space()
    newcomer = await register("Newcomer")
    added = await client.post(
        members_url(shared.id), json={"email": newcomer.email.upper(), "role": "editor"}, headers=shared.owner.headers
    )
    assert added.status_code == 201
    assert added.json()["member"]["userId"] == newcomer.id
    assert added.json()["member"]["role"] == "editor"
    seen = await client.get(f"/api/spaces/{shared.id}", headers=newcomer.headers)
    assert seen.json()["space"]["role"] == "editor"


@pytest.mark.parametrize("who", ["editor", "viewer"])
async def test_non_owners_cannot_change_members(client, shared_space, register, error, who: str) -> None:
    shared = await shared_space()
    newcomer = await register("Newcomer")
    headers = getattr(shared, who).headers
    responses = [
        await client.post(members_url(shared.id), json={"email": newcomer.email, "role": "viewer"}, headers=headers),
        await client.patch(members_url(shared.id, shared.viewer.id), json={"role": "editor"}, headers=headers),
        await client.delete(members_url(shared.id, shared.owner.id), headers=headers),
    ]
    for response in responses:
        assert response.status_code == 403
        assert error(response)["code"] == "PERMISSION_DENIED"


async def test_adding_an_unknown_email_is_not_found(client, shared_space, error) -> None:
    shared = await shared_space()
    response = await client.post(
        members_url(shared.id), json={"email": "nobody@example.com", "role": "viewer"}, headers=shared.owner.headers
    )
    assert response.status_code == 404
    assert error(response)["message"] == "no account has this email"


async def test_adding_an_existing_member_is_a_conflict(client, shared_space, error) -> None:
    shared = await shared_space()
    response = await client.post(
        members_url(shared.id), json={"email": shared.viewer.email, "role": "editor"}, headers=shared.owner.headers
    )
    assert response.status_code == 409
    assert error(response)["code"] == "CONFLICT"


async def test_an_unknown_role_is_a_validation_error(client, shared_space, error) -> None:
    shared = await shared_space()
    response = await client.patch(
        members_url(shared.id, shared.viewer.id), json={"role": "admin"}, headers=shared.owner.headers
    )
    assert response.status_code == 422
    assert error(response)["details"]["errors"][0]["loc"] == ["body", "role"]


async def test_an_owner_changes_a_role(client, shared_space) -> None:
    shared = await shared_space()
    response = await client.patch(
        members_url(shared.id, shared.viewer.id), json={"role": "editor"}, headers=shared.owner.headers
    )
    assert response.status_code == 200
    assert response.json()["member"]["role"] == "editor"
    renamed = await client.patch(
        f"/api/spaces/{shared.id}", json={"name": "Now editable"}, headers=shared.viewer.headers
    )
    assert renamed.status_code == 200


async def test_changing_the_role_of_a_non_member_is_not_found(client, shared_space, register) -> None:
    shared = await shared_space()
    stranger = await register("Stranger")
    response = await client.patch(
        members_url(shared.id, stranger.id), json={"role": "editor"}, headers=shared.owner.headers
    )
    assert response.status_code == 404
    removal = await client.delete(members_url(shared.id, stranger.id), headers=shared.owner.headers)
    assert removal.status_code == 404


async def test_the_last_owner_cannot_be_demoted(client, shared_space, error) -> None:
    shared = await shared_space()
    response = await client.patch(
        members_url(shared.id, shared.owner.id), json={"role": "editor"}, headers=shared.owner.headers
    )
    assert response.status_code == 409
    assert error(response)["code"] == "INVALID_STATE"
    assert "last owner" in error(response)["message"]


async def test_the_last_owner_can_neither_leave_nor_be_removed(client, shared_space, error) -> None:
    shared = await shared_space()
    response = await client.delete(members_url(shared.id, shared.owner.id), headers=shared.owner.headers)
    assert response.status_code == 409
    assert error(response)["code"] == "INVALID_STATE"


async def test_an_owner_may_leave_once_another_owner_exists(client, shared_space) -> None:
    shared = await shared_space()
    promoted = await client.patch(
        members_url(shared.id, shared.editor.id), json={"role": "owner"}, headers=shared.owner.headers
    )
    assert promoted.status_code == 200
    left = await client.delete(members_url(shared.id, shared.owner.id), headers=shared.owner.headers)
    assert left.status_code == 204
    assert (await client.get(f"/api/spaces/{shared.id}", headers=shared.owner.headers)).status_code == 404
    demote_last = await client.patch(
        members_url(shared.id, shared.editor.id), json={"role": "viewer"}, headers=shared.editor.headers
    )
    assert demote_last.status_code == 409


@pytest.mark.parametrize("who", ["editor", "viewer"])
async def test_a_member_may_leave(client, shared_space, who: str) -> None:
    shared = await shared_space()
    account = getattr(shared, who)
    left = await client.delete(members_url(shared.id, account.id), headers=account.headers)
    assert left.status_code == 204
    assert (await client.get(f"/api/spaces/{shared.id}", headers=account.headers)).status_code == 404
    remaining = await client.get(members_url(shared.id), headers=shared.owner.headers)
    assert account.id not in [member["userId"] for member in remaining.json()["members"]]


async def test_an_owner_removes_a_member(client, shared_space) -> None:
    shared = await shared_space()
    removed = await client.delete(members_url(shared.id, shared.editor.id), headers=shared.owner.headers)
    assert removed.status_code == 204
    assert (await client.get(f"/api/spaces/{shared.id}", headers=shared.editor.headers)).status_code == 404


async def test_two_owners_leaving_at_once_leave_one_owner_behind(client, shared_space) -> None:
    shared = await shared_space()
    await client.patch(members_url(shared.id, shared.editor.id), json={"role": "owner"}, headers=shared.owner.headers)
    results = await asyncio.gather(
        client.delete(members_url(shared.id, shared.owner.id), headers=shared.owner.headers),
        client.delete(members_url(shared.id, shared.editor.id), headers=shared.editor.headers),
    )
    assert sorted(response.status_code for response in results) == [204, 409]
    stayed = shared.owner if results[0].status_code == 409 else shared.editor
    members = (await client.get(members_url(shared.id), headers=stayed.headers)).json()["members"]
    assert [member["role"] for member in members if member["role"] == "owner"] == ["owner"]


async def test_every_committed_membership_change_is_announced_on_the_spaces_subject(
    client, shared_space, bus_client
) -> None:
    shared = await shared_space()
    heard: list[MembershipChanged] = []
    arrived = asyncio.Event()

    async def on_change(msg) -> None:
        heard.append(MembershipChanged.model_validate_json(msg.data))
        arrived.set()

    await bus_client.nats.subscribe(MEMBERSHIP.fill(space_id=shared.id), cb=on_change)
    await bus_client.nats.flush()
    owner = shared.owner.headers

    async def next_notice() -> tuple[str | None, str | None]:
        await asyncio.wait_for(arrived.wait(), 10)
        arrived.clear()
        change = heard.pop(0)
        assert change.space_id == shared.id
        return change.user_id, change.role

    assert (
        await client.patch(members_url(shared.id, shared.viewer.id), json={"role": "editor"}, headers=owner)
    ).is_success
    assert await next_notice() == (shared.viewer.id, Role.EDITOR)
    # Refused changes and changes to the same role announce nothing; the next notice is the removal's.
    assert (
        await client.patch(members_url(shared.id, shared.owner.id), json={"role": "viewer"}, headers=owner)
    ).status_code == 409
    assert (
        await client.patch(members_url(shared.id, shared.viewer.id), json={"role": "editor"}, headers=owner)
    ).is_success
    assert (await client.delete(members_url(shared.id, shared.editor.id), headers=owner)).status_code == 204
    assert await next_notice() == (shared.editor.id, None)
    assert (
        await client.delete(members_url(shared.id, shared.viewer.id), headers=shared.viewer.headers)
    ).status_code == 204
    assert await next_notice() == (shared.viewer.id, None)
    assert (await client.delete(f"/api/spaces/{shared.id}", headers=owner)).status_code == 204
    assert await next_notice() == (None, None)
    assert heard == []
