"""Accounts, spaces and members as plain records, and the rules of who may do what. No I/O.

Who may do what in a space:

| action                         | viewer | editor | owner |
|--------------------------------|--------|--------|-------|
| see the space and its members  | yes    | yes    | yes   |
| rename the space               | no     | yes    | yes   |
| delete the space               | no     | no     | yes   |
| add, re-role or remove members | no     | no     | yes   |
| leave (remove themself)        | yes    | yes    | yes, unless the last owner |

A space always keeps at least one owner: the last owner can neither be demoted nor
removed, not even by themself. Someone who is not a member learns nothing about a
space: it is "not found", never "forbidden".
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from makefx_contracts.errors import InvalidState, NotFound, PermissionDenied
from makefx_contracts.identity import Role

USER_PREFIX = "usr"
SPACE_PREFIX = "spc"
SESSION_PREFIX = "ses"


def new_id(prefix: str) -> str:
    """Ids are `<prefix>_<uuid4 hex>`: readable in logs, valid as a NATS subject token."""
    return f"{prefix}_{uuid.uuid4().hex}"


def normalise_email(email: str) -> str:
    """Emails are compared case-insensitively: stored and looked up lower-cased and trimmed."""
    return email.strip().lower()


@dataclass(frozen=True)
class User:
    id: str
    email: str
    name: str
    password_hash: str
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class Session:
    """A login: the refresh token's hash, rotated on every refresh; access tokens name its id."""

    id: str
    user_id: str
    refresh_token_hash: str
    created_at: datetime
    expires_at: datetime
    revoked_at: datetime | None = None

    def is_live(self, now: datetime) -> bool:
        return self.revoked_at is None and now < self.expires_at


@dataclass(frozen=True)
class Space:
    id: str
    name: str
    created_by: str
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class Member:
    space_id: str
    user_id: str
    role: Role
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class MemberProfile:
    """A member with the user behind it, as the members list shows it."""

    member: Member
    user: User


@dataclass(frozen=True)
class SpaceView:
    """A space as one of its members sees it: with that member's role."""

    space: Space
    role: Role


# -- rules -----------------------------------------------------------------------------


def require_member(role: Role | None, space_id: str) -> Role:
    """The caller's role, or NotFound: a space you are not in does not exist for you."""
    if role is None:
        raise NotFound("space not found", details={"spaceId": space_id})
    return role


def may_rename(role: Role) -> bool:
    return role.can_edit


def may_delete_space(role: Role) -> bool:
    return role.is_owner


def may_manage_members(role: Role) -> bool:
    return role.is_owner


def ensure_may_rename(role: Role) -> None:
    if not may_rename(role):
        raise PermissionDenied("only owners and editors may rename a space")


def ensure_may_delete_space(role: Role) -> None:
    if not may_delete_space(role):
        raise PermissionDenied("only owners may delete a space")


def ensure_may_manage_members(role: Role) -> None:
    if not may_manage_members(role):
        raise PermissionDenied("only owners may change the members of a space")


def ensure_may_change_role(actor: Role, current: Role, new: Role, owners: int) -> None:
    """An owner may give any member any role, except demoting the space's last owner."""
    ensure_may_manage_members(actor)
    if current.is_owner and not new.is_owner and owners <= 1:
        raise InvalidState("the last owner of a space cannot be demoted: make someone else owner first")


def ensure_may_remove(actor_id: str, actor: Role, target_id: str, target: Role, owners: int) -> None:
    """Owners remove anyone and anyone may leave; the last owner stays either way."""
    if actor_id != target_id:
        ensure_may_manage_members(actor)
    if target.is_owner and owners <= 1:
        raise InvalidState("the last owner of a space cannot leave or be removed: make someone else owner first")
