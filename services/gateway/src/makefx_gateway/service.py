"""The gateway's use cases: accounts and sessions, spaces and members. No web framework, no SQL."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from makefx_auth import AccessTokens, hash_refresh_token, new_refresh_token
from makefx_contracts.errors import NotFound, RateLimited, Unauthenticated
from makefx_contracts.identity import MembershipChanged, Role
from makefx_gateway import domain
from makefx_gateway.domain import Member, MemberProfile, Session, Space, SpaceView, User
from makefx_gateway.passwords import Passwords
from makefx_gateway.ratelimit import LoginLimits
from makefx_gateway.store import GatewayStore, Transaction

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]
# Tells every gateway (this one included) of a committed membership change, for its open sockets.
MembershipNotice = Callable[[MembershipChanged], Awaitable[None]]

WRONG_CREDENTIALS = "wrong email or password"


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Principal:
    """Who is acting: a user, through one of their sessions."""

    user_id: str
    session_id: str


@dataclass(frozen=True)
class SignedIn:
    user: User
    session_id: str
    access_token: str
    refresh_token: str
    expires_at: datetime


class Accounts:
    """Registration, login, token refresh and logout; turning an access token into a `Principal`."""

    def __init__(
        self,
        store: GatewayStore,
        passwords: Passwords,
        tokens: AccessTokens,
        limits: LoginLimits,
        *,
        refresh_ttl: timedelta,
        clock: Clock = utc_now,
    ) -> None:
        self.store = store
        self.passwords = passwords
        self.tokens = tokens
        self.limits = limits
        self.refresh_ttl = refresh_ttl
        self.clock = clock

    async def register(self, email: str, password: str, name: str, *, address: str) -> SignedIn:
        # Registration costs a password hash, so it counts against the address's budget too.
        self._check_limit(self.limits.per_address.retry_after(address), "address")
        self.limits.per_address.hit(address)
        now = self.clock()
        user = User(
            id=domain.new_id(domain.USER_PREFIX),
            email=domain.normalise_email(email),
            name=name,
            password_hash=await self.passwords.hash(password),
            created_at=now,
            updated_at=now,
        )
        async with self.store.transaction(write=True) as tx:
            await tx.add_user(user)
            session, refresh_token = self._new_session(user.id, now)
            await tx.add_session(session)
        return self._signed_in(user, session.id, refresh_token, now)

    async def login(self, email: str, password: str, *, address: str) -> SignedIn:
        email = domain.normalise_email(email)
        blocked = self.limits.retry_after(email, address)
        if blocked is not None:
            scope, wait = blocked
            self._check_limit(wait, scope)
        self.limits.hit(email, address)
        async with self.store.transaction() as tx:
            user = await tx.user_by_email(email)
        # Unknown account and wrong password: the same work, the same answer.
        if not await self.passwords.verify(user.password_hash if user else None, password) or user is None:
            raise Unauthenticated(WRONG_CREDENTIALS)
        # A hash made with older cost parameters is upgraded now, while the password is at hand.
        upgraded = await self.passwords.hash(password) if self.passwords.needs_rehash(user.password_hash) else None
        now = self.clock()
        async with self.store.transaction(write=True) as tx:
            if upgraded is not None:
                await tx.set_password_hash(user.id, upgraded, now)
            session, refresh_token = self._new_session(user.id, now)
            await tx.add_session(session)
        return self._signed_in(user, session.id, refresh_token, now)

    async def refresh(self, refresh_token: str) -> SignedIn:
        """New tokens for a live session; the given refresh token stops working (rotation)."""
        old_hash = hash_refresh_token(refresh_token)
        now = self.clock()
        async with self.store.transaction(write=True) as tx:
            session = await tx.session_by_refresh_hash(old_hash)
            if session is None or not session.is_live(now):
                raise _refresh_refused()
            rotated = new_refresh_token()
            swapped = await tx.rotate_session(
                session.id, old_hash, hash_refresh_token(rotated), now + self.refresh_ttl, now
            )
            user = await tx.user(session.user_id)
            if not swapped or user is None:
                raise _refresh_refused()
        return self._signed_in(user, session.id, rotated, now)

    async def logout(self, *, refresh_token: str | None, access_token: str | None) -> None:
        """End the session of the refresh token and that of the access token; idempotent.

        A genuine access token past its expiry still names its session, so signing out
        works after the access token lapsed. A forged one is refused unless a refresh
        token was given as well.
        """
        if refresh_token is None and access_token is None:
            raise Unauthenticated("nothing to sign out of: send the refresh token or an access token")
        session_id: str | None = None
        if access_token is not None:
            try:
                session_id = self.tokens.verify(access_token, allow_expired=True).session_id
            except Unauthenticated:
                if refresh_token is None:
                    raise
        now = self.clock()
        async with self.store.transaction(write=True) as tx:
            if refresh_token is not None:
                session = await tx.session_by_refresh_hash(hash_refresh_token(refresh_token))
                if session is not None:
                    await tx.revoke_session(session.id, now)
            if session_id is not None:
                await tx.revoke_session(session_id, now)

    async def authenticate(self, access_token: str) -> Principal:
        """The principal of a valid access token whose session is still live (logout is immediate)."""
        claims = self.tokens.verify(access_token)
        session = await self.store.session_by_id(claims.session_id)
        if session is None or session.user_id != claims.user_id or not session.is_live(self.clock()):
            raise Unauthenticated(
                "the session of this access token has ended: sign in again", details={"reason": "revoked"}
            )
        return Principal(user_id=claims.user_id, session_id=claims.session_id)

    async def me(self, principal: Principal) -> User:
        async with self.store.transaction() as tx:
            user = await tx.user(principal.user_id)
        if user is None:
            raise Unauthenticated("this account no longer exists", details={"reason": "revoked"})
        return user

    async def profile(self, user_id: str) -> User:
        async with self.store.transaction() as tx:
            user = await tx.user(user_id)
        if user is None:
            raise NotFound("user not found", details={"userId": user_id})
        return user

    def _new_session(self, user_id: str, now: datetime) -> tuple[Session, str]:
        refresh_token = new_refresh_token()
        session = Session(
            id=domain.new_id(domain.SESSION_PREFIX),
            user_id=user_id,
            refresh_token_hash=hash_refresh_token(refresh_token),
            created_at=now,
            expires_at=now + self.refresh_ttl,
        )
        return session, refresh_token

    def _signed_in(self, user: User, session_id: str, refresh_token: str, now: datetime) -> SignedIn:
        issued = self.tokens.issue(user.id, session_id, now=now)
        return SignedIn(
            user=user,
            session_id=session_id,
            access_token=issued.token,
            refresh_token=refresh_token,
            expires_at=issued.expires_at,
        )

    @staticmethod
    def _check_limit(wait: int | None, scope: str) -> None:
        if wait is not None:
            raise RateLimited(
                f"too many attempts from this {scope}: try again in {wait} s",
                details={"retryAfterSeconds": wait, "scope": scope},
            )


def _refresh_refused() -> Unauthenticated:
    return Unauthenticated("refresh token is not valid: sign in again", details={"reason": "invalid"})


async def _nobody_listens(_: MembershipChanged) -> None:
    return None


class Spaces:
    """Spaces and their members, as seen and changed by one acting user.

    Each committed change of who may do what in a space (a role changed, a member removed
    or gone, the space deleted) is announced through `notify`, so open sockets follow it at
    once instead of at their next mutation.
    """

    def __init__(self, store: GatewayStore, *, clock: Clock = utc_now, notify: MembershipNotice | None = None) -> None:
        self.store = store
        self.clock = clock
        self.notify = notify or _nobody_listens

    async def list(self, user_id: str) -> list[SpaceView]:
        async with self.store.transaction() as tx:
            return await tx.spaces_of(user_id)

    async def create(self, user_id: str, name: str) -> SpaceView:
        now = self.clock()
        space = Space(
            id=domain.new_id(domain.SPACE_PREFIX), name=name, created_by=user_id, created_at=now, updated_at=now
        )
        owner = Member(space_id=space.id, user_id=user_id, role=Role.OWNER, created_at=now, updated_at=now)
        async with self.store.transaction(write=True) as tx:
            await tx.add_space(space, owner)
        return SpaceView(space, Role.OWNER)

    async def get(self, user_id: str, space_id: str) -> SpaceView:
        async with self.store.transaction() as tx:
            role = domain.require_member(await tx.role(space_id, user_id), space_id)
            space = await tx.space(space_id)
        if space is None:
            raise NotFound("space not found", details={"spaceId": space_id})
        return SpaceView(space, role)

    async def rename(self, user_id: str, space_id: str, name: str) -> SpaceView:
        async with self.store.transaction(write=True) as tx:
            role = domain.require_member(await tx.role(space_id, user_id), space_id)
            domain.ensure_may_rename(role)
            space = await tx.rename_space(space_id, name, self.clock())
        return SpaceView(space, role)

    async def delete(self, user_id: str, space_id: str) -> None:
        async with self.store.transaction(write=True) as tx:
            role = domain.require_member(await tx.role(space_id, user_id), space_id)
            domain.ensure_may_delete_space(role)
            await tx.delete_space(space_id)
        await self._announce(MembershipChanged(space_id=space_id, user_id=None, role=None))
        # Hook for the space-state issue (ARCHITECTURE §5): the assets, variants, chat
        # and media of a space live in space-state and media, not here. When they
        # exist, declare a `SpaceDeleted` event in makefx_contracts and publish it
        # here so they drop the space's data. Until then nothing else holds any.

    async def role_of(self, space_id: str, user_id: str) -> Role | None:
        return await self.store.role(space_id, user_id)

    async def members(self, user_id: str, space_id: str) -> list[MemberProfile]:
        async with self.store.transaction() as tx:
            domain.require_member(await tx.role(space_id, user_id), space_id)
            return await tx.members(space_id)

    async def add_member(self, user_id: str, space_id: str, email: str, role: Role) -> MemberProfile:
        now = self.clock()
        async with self.store.transaction(write=True) as tx:
            actor = domain.require_member(await tx.role(space_id, user_id), space_id)
            domain.ensure_may_manage_members(actor)
            user = await tx.user_by_email(domain.normalise_email(email))
            if user is None:
                raise NotFound("no account has this email", details={"email": email})
            member = Member(space_id=space_id, user_id=user.id, role=role, created_at=now, updated_at=now)
            await tx.add_member(member)
        return MemberProfile(member, user)

    async def change_role(self, user_id: str, space_id: str, target_id: str, role: Role) -> MemberProfile:
        async with self.store.transaction(write=True) as tx:
            await tx.space(space_id, lock=True)
            actor = domain.require_member(await tx.role(space_id, user_id), space_id)
            target = await self._target(tx, space_id, target_id)
            domain.ensure_may_change_role(actor, target.member.role, role, await tx.owner_count(space_id))
            await tx.set_role(space_id, target_id, role, self.clock())
            changed = await self._target(tx, space_id, target_id)
        if role != target.member.role:
            await self._announce(MembershipChanged(space_id=space_id, user_id=target_id, role=role))
        return changed

    async def remove_member(self, user_id: str, space_id: str, target_id: str) -> None:
        async with self.store.transaction(write=True) as tx:
            await tx.space(space_id, lock=True)
            actor = domain.require_member(await tx.role(space_id, user_id), space_id)
            target = await self._target(tx, space_id, target_id)
            domain.ensure_may_remove(user_id, actor, target_id, target.member.role, await tx.owner_count(space_id))
            await tx.remove_member(space_id, target_id)
        await self._announce(MembershipChanged(space_id=space_id, user_id=target_id, role=None))

    async def _announce(self, change: MembershipChanged) -> None:
        """After the commit. A lost notice leaves the per-request role checks, which still refuse."""
        try:
            await self.notify(change)
        except Exception:  # the change is committed: the request must not fail for want of the notice
            log.warning("could not announce a membership change in %s", change.space_id, exc_info=True)

    @staticmethod
    async def _target(tx: Transaction, space_id: str, target_id: str) -> MemberProfile:
        target = await tx.member(space_id, target_id)
        if target is None:
            raise NotFound("member not found", details={"spaceId": space_id, "userId": target_id})
        return target
