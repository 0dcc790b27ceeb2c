"""The JSON bodies of the gateway's HTTP API (`/api/...`): camelCase on the wire, unknown fields refused.

They are contracts like the messages — the frontend imports them from proto/ — but no
`type` travels with them: an HTTP body is known by its route. The `of` constructors
take any object with the gateway's attribute names (the `*Facts` protocols), so the
contracts never import a service.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any, Protocol

from pydantic import AfterValidator, Field, StringConstraints

from makefx_contracts.base import Model
from makefx_contracts.errors import ErrorCode
from makefx_contracts.identity import Role
from makefx_contracts.rows import AssetRow, MediaKind, VariantRow
from makefx_contracts.space import Position

MIN_PASSWORD_LENGTH = 8
MAX_PASSWORD_LENGTH = 1024
MAX_EMAIL_LENGTH = 254
MAX_NAME_LENGTH = 200

# Deliberately plain: one "@", no spaces, a dot in the domain. Deliverability is
# proven by mail, not by a regular expression.
_EMAIL = re.compile(r"^[^@\s]+@[^@\s.]+(\.[^@\s.]+)+$")


def is_email(value: str) -> bool:
    return len(value) <= MAX_EMAIL_LENGTH and _EMAIL.match(value) is not None


def _email(value: str) -> str:
    if not is_email(value):
        raise ValueError("not an email address (expected name@domain.tld)")
    return value.strip().lower()  # compared case-insensitively: stored and looked up lower-cased


EmailAddress = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=3, max_length=MAX_EMAIL_LENGTH),
    AfterValidator(_email),
]
NewPassword = Annotated[str, StringConstraints(min_length=MIN_PASSWORD_LENGTH, max_length=MAX_PASSWORD_LENGTH)]
Password = Annotated[str, StringConstraints(min_length=1, max_length=MAX_PASSWORD_LENGTH)]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_NAME_LENGTH)]
Token = Annotated[str, StringConstraints(min_length=1, max_length=512)]


class UserFacts(Protocol):
    id: str
    email: str
    name: str
    created_at: datetime


class SpaceFacts(Protocol):
    id: str
    name: str
    created_by: str
    created_at: datetime
    updated_at: datetime


class SpaceViewFacts(Protocol):
    space: SpaceFacts
    role: Role


class MembershipFacts(Protocol):
    role: Role
    created_at: datetime
    updated_at: datetime


class MemberProfileFacts(Protocol):
    member: MembershipFacts
    user: UserFacts


# -- accounts and spaces: requests -------------------------------------------------------


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


# -- accounts and spaces: responses ------------------------------------------------------


class UserOut(Model):
    id: str
    email: str
    name: str
    created_at: datetime

    @classmethod
    def of(cls, user: UserFacts) -> UserOut:
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
    def of(cls, view: SpaceViewFacts) -> SpaceOut:
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
    def of(cls, profile: MemberProfileFacts) -> MemberOut:
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


# -- uploads -----------------------------------------------------------------------------


class StartUpload(Model):
    filename: str = Field(min_length=1, max_length=255)
    content_type: str = Field(min_length=1, max_length=255)
    size_bytes: int = Field(ge=1)
    media_kind: MediaKind | None = Field(default=None, description="default: from contentType")
    asset_id: str | None = None
    name: str | None = Field(default=None, min_length=1, max_length=200)
    asset_type: str = Field(default="upload", min_length=1, max_length=40)
    parent_asset_id: str | None = None
    position: Position | None = None


class UploadStarted(Model):
    variant_id: str
    asset_id: str
    upload_url: str
    headers: dict[str, str]
    expires_at: int = Field(description="milliseconds since the epoch")


class UploadCompleted(Model):
    variant: VariantRow


class FormFields(Model):
    """The one-step upload's text parts, named as the original product's clients send them."""

    media_kind: MediaKind | None = None
    asset_id: str | None = Field(default=None, min_length=1, max_length=128)
    asset_name: str | None = Field(default=None, min_length=1, max_length=200)
    asset_type: str = Field(default="upload", min_length=1, max_length=40)
    parent_asset_id: str | None = Field(default=None, min_length=1, max_length=128)


class FileUploaded(Model):
    variant: VariantRow
    asset: AssetRow | None = Field(default=None, description="the asset the upload made, when it made one")


# -- usage -------------------------------------------------------------------------------


class BudgetIn(Model):
    monthly_credits: Annotated[float, Field(ge=0, description="null: no budget")] | None


# -- failures ----------------------------------------------------------------------------


class ErrorDetail(Model):
    code: ErrorCode
    message: str
    details: dict[str, Any] = Field(default_factory=dict)


class ErrorBody(Model):
    """`{"error": {code, message, details}}`, the body of every failed request."""

    error: ErrorDetail
