"""The SQLModel adapter of the gateway store: SQLite (aiosqlite) or PostgreSQL (asyncpg)."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

from sqlalchemy import Row, bindparam, func, update
from sqlalchemy import delete as sql_delete
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from makefx_contracts.errors import Conflict, NotFound
from makefx_contracts.identity import Role
from makefx_gateway.domain import Member, MemberProfile, Session, Space, SpaceView, User
from makefx_gateway.store.migrations import migrate
from makefx_gateway.store.tables import MemberRow, SessionRow, SpaceRow, UserRow
from makefx_sqldb import Database, create_engine

__all__ = ["SqlStore", "create_engine"]

log = logging.getLogger(__name__)


class SqlStore(Database):
    """`GatewayStore` over SQLAlchemy: one `AsyncSession` per transaction."""

    def __init__(self, engine: AsyncEngine) -> None:
        super().__init__(engine, migrate, name="the database")

    @contextlib.asynccontextmanager
    async def transaction(self, *, write: bool = False) -> AsyncIterator[SqlTransaction]:
        async with self.session(write=write) as session:
            yield SqlTransaction(session)

    async def role(self, space_id: str, user_id: str) -> Role | None:
        row = await self.read_row(_ROLE, {"space_id": space_id, "user_id": user_id})
        return Role(row.role) if row else None

    async def session_by_id(self, session_id: str) -> Session | None:
        row = await self.read_row(_SESSION, {"session_id": session_id})
        return _session(row) if row else None


# The reads of every request, prepared once: a member's role, a session (is the token's sign-in live).
_ROLE = select(MemberRow.role).where(
    col(MemberRow.space_id) == bindparam("space_id"), col(MemberRow.user_id) == bindparam("user_id")
)
_SESSION = select(SessionRow).where(col(SessionRow.id) == bindparam("session_id"))


class SqlTransaction:
    def __init__(self, db: AsyncSession) -> None:
        self.db = db

    async def _flush(self, conflict: str, **details: str) -> None:
        try:
            await self.db.flush()
        except IntegrityError:
            raise Conflict(conflict, details=details) from None

    # -- users ---------------------------------------------------------------------------

    async def add_user(self, user: User) -> None:
        self.db.add(UserRow(**_fields(user)))
        await self._flush("an account with this email already exists", email=user.email)

    async def user(self, user_id: str) -> User | None:
        row = await self.db.get(UserRow, user_id)
        return _user(row) if row else None

    async def user_by_email(self, email: str) -> User | None:
        row = (await self.db.exec(select(UserRow).where(UserRow.email == email))).first()
        return _user(row) if row else None

    async def set_password_hash(self, user_id: str, password_hash: str, now: datetime) -> None:
        await self.db.exec(
            update(UserRow).where(col(UserRow.id) == user_id).values(password_hash=password_hash, updated_at=now)
        )

    # -- sessions ------------------------------------------------------------------------

    async def add_session(self, session: Session) -> None:
        self.db.add(SessionRow(**_fields(session)))
        await self._flush("session id collision")

    async def session(self, session_id: str) -> Session | None:
        row = await self.db.get(SessionRow, session_id)
        return _session(row) if row else None

    async def session_by_refresh_hash(self, refresh_hash: str) -> Session | None:
        statement = select(SessionRow).where(SessionRow.refresh_token_hash == refresh_hash)
        row = (await self.db.exec(statement)).first()
        return _session(row) if row else None

    async def rotate_session(
        self, session_id: str, old_hash: str, new_hash: str, expires_at: datetime, now: datetime
    ) -> bool:
        result = await self.db.exec(
            update(SessionRow)
            .where(
                col(SessionRow.id) == session_id,
                col(SessionRow.refresh_token_hash) == old_hash,
                col(SessionRow.revoked_at).is_(None),
                col(SessionRow.expires_at) > now,
            )
            .values(refresh_token_hash=new_hash, expires_at=expires_at)
        )
        return result.rowcount == 1

    async def revoke_session(self, session_id: str, now: datetime) -> None:
        await self.db.exec(
            update(SessionRow)
            .where(col(SessionRow.id) == session_id, col(SessionRow.revoked_at).is_(None))
            .values(revoked_at=now)
        )

    # -- spaces --------------------------------------------------------------------------

    async def add_space(self, space: Space, owner: Member) -> None:
        self.db.add(SpaceRow(**_fields(space)))
        await self._flush("space id collision")
        self.db.add(MemberRow(**_fields(owner)))
        await self._flush("member already exists")

    async def space(self, space_id: str, *, lock: bool = False) -> Space | None:
        statement = select(SpaceRow).where(SpaceRow.id == space_id)
        if lock:
            statement = statement.with_for_update()
        row = (await self.db.exec(statement)).first()
        return _space(row) if row else None

    async def spaces_of(self, user_id: str) -> list[SpaceView]:
        statement = (
            select(SpaceRow, MemberRow.role)
            .join(MemberRow, col(MemberRow.space_id) == col(SpaceRow.id))
            .where(MemberRow.user_id == user_id)
            .order_by(col(SpaceRow.created_at), col(SpaceRow.id))
        )
        return [SpaceView(_space(row), Role(role)) for row, role in await self.db.exec(statement)]

    async def rename_space(self, space_id: str, name: str, now: datetime) -> Space:
        row = await self.db.get(SpaceRow, space_id)
        if row is None:
            raise NotFound("space not found", details={"spaceId": space_id})
        row.name = name
        row.updated_at = now
        await self.db.flush()
        return _space(row)

    async def delete_space(self, space_id: str) -> None:
        # Memberships go with it (ON DELETE CASCADE; deleted explicitly too, so the
        # rule does not hang on a pragma).
        await self.db.exec(sql_delete(MemberRow).where(col(MemberRow.space_id) == space_id))
        await self.db.exec(sql_delete(SpaceRow).where(col(SpaceRow.id) == space_id))

    # -- members -------------------------------------------------------------------------

    async def role(self, space_id: str, user_id: str) -> Role | None:
        role = (await self.db.exec(_ROLE, params={"space_id": space_id, "user_id": user_id})).first()
        return Role(role) if role else None

    async def member(self, space_id: str, user_id: str) -> MemberProfile | None:
        statement = (
            select(MemberRow, UserRow)
            .join(UserRow, col(UserRow.id) == col(MemberRow.user_id))
            .where(MemberRow.space_id == space_id, MemberRow.user_id == user_id)
        )
        found = (await self.db.exec(statement)).first()
        return MemberProfile(_member(found[0]), _user(found[1])) if found else None

    async def members(self, space_id: str) -> list[MemberProfile]:
        statement = (
            select(MemberRow, UserRow)
            .join(UserRow, col(UserRow.id) == col(MemberRow.user_id))
            .where(MemberRow.space_id == space_id)
            .order_by(col(MemberRow.created_at), col(MemberRow.user_id))
        )
        return [MemberProfile(_member(member), _user(user)) for member, user in await self.db.exec(statement)]

    async def owner_count(self, space_id: str) -> int:
        statement = select(func.count()).where(MemberRow.space_id == space_id, MemberRow.role == Role.OWNER.value)
        return (await self.db.exec(statement)).one()

    async def add_member(self, member: Member) -> None:
        self.db.add(MemberRow(**_fields(member)))
        await self._flush("this user is already a member of the space", userId=member.user_id)

    async def set_role(self, space_id: str, user_id: str, role: Role, now: datetime) -> None:
        await self.db.exec(
            update(MemberRow)
            .where(col(MemberRow.space_id) == space_id, col(MemberRow.user_id) == user_id)
            .values(role=role.value, updated_at=now)
        )

    async def remove_member(self, space_id: str, user_id: str) -> None:
        await self.db.exec(
            sql_delete(MemberRow).where(col(MemberRow.space_id) == space_id, col(MemberRow.user_id) == user_id)
        )


def _fields(record: Any) -> dict[str, Any]:
    values = dict(vars(record))
    if isinstance(values.get("role"), Role):
        values["role"] = values["role"].value
    return values


def _user(row: UserRow) -> User:
    return User(
        id=row.id,
        email=row.email,
        name=row.name,
        password_hash=row.password_hash,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def _session(row: SessionRow | Row[Any]) -> Session:
    return Session(
        id=row.id,
        user_id=row.user_id,
        refresh_token_hash=row.refresh_token_hash,
        created_at=row.created_at,
        expires_at=row.expires_at,
        revoked_at=row.revoked_at,
    )


def _space(row: SpaceRow) -> Space:
    return Space(
        id=row.id, name=row.name, created_by=row.created_by, created_at=row.created_at, updated_at=row.updated_at
    )


def _member(row: MemberRow) -> Member:
    return Member(
        space_id=row.space_id,
        user_id=row.user_id,
        role=Role(row.role),
        created_at=row.created_at,
        updated_at=row.updated_at,
    )
