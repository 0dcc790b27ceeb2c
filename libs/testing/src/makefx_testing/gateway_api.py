"""The gateway's HTTP API as tests use it to set a scene: people registered, spaces created with their members."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass

import httpx

PASSWORD = "correct horse battery"


@dataclass(frozen=True)
class Account:
    """A registered person: their id, unique e-mail and access token."""

    id: str
    email: str
    token: str

    @property
    def auth(self) -> dict[str, str]:
        """The header that makes a request theirs."""
        return {"Authorization": f"Bearer {self.token}"}


async def register(http_url: str, name: str) -> Account:
    """A new person called `name`, registered at the gateway `http_url`."""
    email = f"{name.lower()}-{uuid.uuid4().hex[:8]}@example.com"
    async with httpx.AsyncClient(base_url=http_url, timeout=15) as api:
        answer = await api.post("/api/auth/register", json={"email": email, "password": PASSWORD, "name": name})
        assert answer.status_code == 201, answer.text
        body = answer.json()
        return Account(id=body["user"]["id"], email=email, token=body["accessToken"])


async def create_space(http_url: str, owner: Account, name: str, members: Mapping[Account, str] | None = None) -> str:
    """A space `owner` created, with each of `members` added in their role ("editor", "viewer"); its id."""
    async with httpx.AsyncClient(base_url=http_url, timeout=15, headers=owner.auth) as api:
        created = await api.post("/api/spaces", json={"name": name})
        assert created.status_code == 201, created.text
        space_id = created.json()["space"]["id"]
        for member, role in (members or {}).items():
            added = await api.post(f"/api/spaces/{space_id}/members", json={"email": member.email, "role": role})
            assert added.status_code == 201, added.text
    return space_id
