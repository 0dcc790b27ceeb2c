"""The space use cases announce each committed membership change, and a lost announcement loses no change."""

from __future__ import annotations

from datetime import UTC, datetime

from makefx_contracts.identity import MembershipChanged, Role
from makefx_gateway import domain
from makefx_gateway.domain import User
from makefx_gateway.service import Spaces
from makefx_gateway.store import SqlStore


async def a_user(store: SqlStore, name: str) -> User:
    now = datetime.now(UTC)
    user = User(domain.new_id(domain.USER_PREFIX), f"{name.lower()}@example.com", name, "x", now, now)
    async with store.transaction(write=True) as tx:
        await tx.add_user(user)
    return user


async def test_a_change_whose_announcement_fails_is_still_made_and_the_request_succeeds(store: SqlStore) -> None:
    tried: list[MembershipChanged] = []

    async def broken(change: MembershipChanged) -> None:
        tried.append(change)
        raise ConnectionError("the bus is down")

    spaces = Spaces(store, notify=broken)
    ada, bob = await a_user(store, "Ada"), await a_user(store, "Bob")
    space = await spaces.create(ada.id, "Workshop")
    await spaces.add_member(ada.id, space.space.id, bob.email, Role.EDITOR)

    changed = await spaces.change_role(ada.id, space.space.id, bob.id, Role.VIEWER)
    assert changed.member.role is Role.VIEWER
    await spaces.remove_member(ada.id, space.space.id, bob.id)
    assert await spaces.role_of(space.space.id, bob.id) is None
    await spaces.delete(ada.id, space.space.id)
    assert await spaces.role_of(space.space.id, ada.id) is None

    sid = space.space.id
    assert [(change.space_id, change.user_id, change.role) for change in tried] == [
        (sid, bob.id, Role.VIEWER),
        (sid, bob.id, None),
        (sid, None, None),
    ]
