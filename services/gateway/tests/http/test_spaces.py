"""`/api/spaces` over real HTTP: create, list, read, rename, delete, and who may."""

from __future__ import annotations

import pytest


async def test_creating_a_space_makes_the_caller_its_owner(client, register) -> None:
    ada = await register("Ada")
    created = await client.post("/api/spaces", json={"name": "  Moon base  "}, headers=ada.headers)
    assert created.status_code == 201
    space = created.json()["space"]
    assert space["id"].startswith("spc_")
    assert (space["name"], space["role"], space["createdBy"]) == ("Moon base", "owner", ada.id)
    assert set(space) == {"id", "name", "role", "createdBy", "createdAt", "updatedAt"}
    fetched = await client.get(f"/api/spaces/{space['id']}", headers=ada.headers)
    assert fetched.status_code == 200 and fetched.json() == {"space": space}


async def test_the_list_holds_only_the_callers_spaces_with_their_role(client, register, shared_space) -> None:
    shared = await shared_space()
    stranger = await register("Stranger")
    await client.post("/api/spaces", json={"name": "Stranger's own"}, headers=stranger.headers)
    listed = await client.get("/api/spaces", headers=shared.viewer.headers)
    assert listed.status_code == 200
    assert [(space["id"], space["role"]) for space in listed.json()["spaces"]] == [(shared.id, "viewer")]
    own = await client.get("/api/spaces", headers=stranger.headers)
    assert [space["name"] for space in own.json()["spaces"]] == ["Stranger's own"]


async def test_a_new_user_has_no_spaces(client, register) -> None:
    ada = await register()
    assert (await client.get("/api/spaces", headers=ada.headers)).json() == {"spaces": []}


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("GET", "", None),
        ("PATCH", "", {"name": "Mine now"}),
        ("DELETE", "", None),
        ("GET", "/members", None),
        ("POST", "/members", {"email": "someone@example.com", "role": "viewer"}),
    ],
)
async def test_someone_elses_space_is_not_found(client, register, shared_space, error, method, path, body) -> None:
    shared = await shared_space()
    stranger = await register("Stranger")
    response = await client.request(method, f"/api/spaces/{shared.id}{path}", json=body, headers=stranger.headers)
    missing = await client.request(method, f"/api/spaces/spc_nope{path}", json=body, headers=stranger.headers)
    assert response.status_code == missing.status_code == 404
    assert error(response)["code"] == "NOT_FOUND"
    assert error(response)["message"] == error(missing)["message"] == "space not found"


async def test_spaces_need_authentication(client, error) -> None:
    response = await client.get("/api/spaces")
    assert response.status_code == 401
    assert error(response)["code"] == "UNAUTHENTICATED"


@pytest.mark.parametrize(("who", "status"), [("owner", 200), ("editor", 200), ("viewer", 403)])
async def test_owners_and_editors_rename_viewers_may_not(client, shared_space, error, who: str, status: int) -> None:
    shared = await shared_space()
    account = getattr(shared, who)
    response = await client.patch(f"/api/spaces/{shared.id}", json={"name": "Mars base"}, headers=account.headers)
    assert response.status_code == status
    if status == 200:
        assert response.json()["space"]["name"] == "Mars base"
        assert response.json()["space"]["role"] == who
    else:
        assert error(response)["code"] == "PERMISSION_DENIED"


@pytest.mark.parametrize("who", ["editor", "viewer"])
async def test_only_owners_delete_a_space(client, shared_space, error, who: str) -> None:
    shared = await shared_space()
    response = await client.delete(f"/api/spaces/{shared.id}", headers=getattr(shared, who).headers)
    assert response.status_code == 403
    assert error(response)["code"] == "PERMISSION_DENIED"
    assert (await client.get(f"/api/spaces/{shared.id}", headers=shared.owner.headers)).status_code == 200


async def test_deleting_a_space_removes_it_for_every_member(client, shared_space) -> None:
    shared = await shared_space()
    deleted = await client.delete(f"/api/spaces/{shared.id}", headers=shared.owner.headers)
    assert deleted.status_code == 204 and deleted.content == b""
    for account in (shared.owner, shared.editor, shared.viewer):
        assert (await client.get(f"/api/spaces/{shared.id}", headers=account.headers)).status_code == 404
        assert (await client.get("/api/spaces", headers=account.headers)).json() == {"spaces": []}


async def test_a_space_name_must_not_be_blank_or_too_long(client, register, error) -> None:
    ada = await register()
    for name in ("", "   ", "x" * 201):
        response = await client.post("/api/spaces", json={"name": name}, headers=ada.headers)
        assert response.status_code == 422
        assert [item["loc"] for item in error(response)["details"]["errors"]] == [["body", "name"]]
