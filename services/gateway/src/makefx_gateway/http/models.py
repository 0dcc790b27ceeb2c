"""The JSON bodies of the HTTP API: camelCase on the wire, unknown fields refused."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, StringConstraints

from makefx_contracts.base import Model
from makefx_contracts.identity import Role
from makefx_gateway import domain


def _email(value: str) -> str:
    if not domain.is_email(value):
        raise ValueError("not an email address (expected name@domain.tld)")
    return domain.normalise_email(value)


EmailAddress = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=3, max_length=domain.MAX_EMAIL_LENGTH),
    AfterValidator(_email),
]
NewPassword = Annotated[
    str, StringConstraints(min_length=domain.MIN_PASSWORD_LENGTH, max_length=domain.MAX_PASSWORD_LENGTH)
]
Password = Annotated[str, StringConstraints(min_length=1, max_length=domain.MAX_PASSWORD_LENGTH)]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=domain.MAX_NAME_LENGTH)]
Token = Annotated[str, StringConstraints(min_length=1, max_length=512)]


# -- requests ----------------------------------------------------------------------------


class Register(Model):
    email: EmailAddress
    password: NewPassword
    name: Name


class Login(Model):
    email: EmailAddress
    password: Password


class Refresh(Model):
    refresh_token: Token


class Logout(Model):
    refresh_token: Token | None = None


class CreateSpace(Model):
    name: Name


class RenameSpace(Model):
    name: Name


class AddMember(Model):
    email: EmailAddress
    role: Role


class ChangeRole(Model):
    role: Role


# -- responses ---------------------------------------------------------------------------


class UserOut(Model):
    id: str
    email: str
    name: str
    created_at: datetime

    @classmethod
    def of(cls, user: domain.User) -> UserOut:
        return cls(id=user.id, email=user.email, name=user.name, created_at=user.created_at)


class AuthSession(Model):
    """What register, login and refresh answer: the user and a fresh pair of tokens."""

    user: UserOut
    access_token: str
    refresh_token: str
    expires_at: datetime


class UserReply(Model):
    user: UserOut


class SpaceOut(Model):
    id: str
    name: str
    role: Role
    created_by: str
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, view: domain.SpaceView) -> SpaceOut:
        space = view.space
        return cls(
            id=space.id,
            name=space.name,
            role=view.role,
            created_by=space.created_by,
            created_at=space.created_at,
            updated_at=space.updated_at,
        )


class SpaceReply(Model):
    space: SpaceOut


class SpaceList(Model):
    spaces: list[SpaceOut]


class MemberOut(Model):
    user_id: str
    email: str
    name: str
    role: Role
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, profile: domain.MemberProfile) -> MemberOut:
        member, user = profile.member, profile.user
        return cls(
            user_id=user.id,
            email=user.email,
            name=user.name,
            role=member.role,
            created_at=member.created_at,
            updated_at=member.updated_at,
        )


class MemberReply(Model):
    member: MemberOut


class MemberList(Model):
    members: list[MemberOut]
