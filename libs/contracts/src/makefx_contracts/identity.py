"""Identity queries the gateway answers for the other services (`fx.identity.*`)."""

from __future__ import annotations

from enum import StrEnum
from typing import ClassVar, Literal

from makefx_contracts.base import Message, Request, Subject
from makefx_contracts.subjects import IDENTITY, MEMBERSHIP


class Role(StrEnum):
    OWNER = "owner"
    EDITOR = "editor"
    VIEWER = "viewer"

    @property
    def can_edit(self) -> bool:
        return self in (Role.OWNER, Role.EDITOR)

    @property
    def is_owner(self) -> bool:
        return self is Role.OWNER


class Membership(Message):
    """A user's role in a space; `role` is None when the user is not a member."""

    type: Literal["identity:membership"] = "identity:membership"
    space_id: str
    user_id: str
    role: Role | None


class MembershipChanged(Message):
    """A member's role changed, or they left (`role` None), or the space was deleted (`user_id` None).

    Published on core NATS by the gateway that made the change; every gateway applies it to
    its open sockets at once: a removed member's sockets close (4403), a deleted space's
    close (4404), and a changed role reaches the member's sockets as `member:role`.
    """

    type: Literal["identity:membershipChanged"] = "identity:membershipChanged"
    subject: ClassVar[Subject] = MEMBERSHIP
    space_id: str
    user_id: str | None
    role: Role | None


class GetMembership(Request[Membership]):
    type: Literal["identity:getMembership"] = "identity:getMembership"
    subject: ClassVar[Subject] = IDENTITY.bind(op="membership")
    space_id: str
    user_id: str


class UserProfile(Message):
    type: Literal["identity:user"] = "identity:user"
    id: str
    email: str
    name: str


class GetUser(Request[UserProfile]):
    type: Literal["identity:getUser"] = "identity:getUser"
    subject: ClassVar[Subject] = IDENTITY.bind(op="user")
    user_id: str
