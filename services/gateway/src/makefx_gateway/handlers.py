"""Identity queries answered on the bus for the other services (`fx.identity.*`)."""

from __future__ import annotations

from makefx_contracts.identity import GetMembership, GetUser, Membership, UserProfile
from makefx_gateway.service import Accounts, Spaces


class IdentityResponders:
    """Thin: decode the query, ask the service, answer with the contract's reply."""

    def __init__(self, accounts: Accounts, spaces: Spaces) -> None:
        self.accounts = accounts
        self.spaces = spaces

    async def on_get_membership(self, query: GetMembership) -> Membership:
        role = await self.spaces.role_of(query.space_id, query.user_id)
        return Membership(space_id=query.space_id, user_id=query.user_id, role=role)

    async def on_get_user(self, query: GetUser) -> UserProfile:
        user = await self.accounts.profile(query.user_id)
        return UserProfile(id=user.id, email=user.email, name=user.name)
