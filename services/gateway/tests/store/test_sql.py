"""The SQL store on SQLite and PostgreSQL alike: migrations, constraints, atomic rotation, cascades."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import inspect, text
from sqlalchemy.exc import IntegrityError

from makefx_contracts.errors import Conflict, Unavailable
from makefx_contracts.identity import Role
from makefx_gateway import domain
from makefx_gateway.domain import Member, Session, Space, User
from makefx_gateway.settings import GatewaySettings
from makefx_gateway.store import SqlStore, create_engine
from makefx_gateway.store.migrations import MIGRATIONS, Migration, SchemaTooNew, migrate
from makefx_gateway.store.tables import GatewayTable

NOW = datetime(2026, 5, 1, 12, 0, 0, 123456, tzinfo=UTC)


def a_user(email: str = "ada@example.com") -> User:
    return User(domain.new_id("usr"), email, "Ada", "$argon2id$hash", NOW, NOW)


def a_session(user: User, token_hash: str = "a" * 64) -> Session:
    return Session(domain.new_id("ses"), user.id, token_hash, NOW, NOW + timedelta(days=30))


def a_space(user: User) -> tuple[Space, Member]:
    space = Space(domain.new_id("spc"), "Moon base", user.id, NOW, NOW)
    return space, Member(space.id, user.id, Role.OWNER, NOW, NOW)


async def test_migrations_create_exactly_the_tables_and_columns_of_the_models(store: SqlStore) -> None:
    def shape(connection):
        inspector = inspect(connection)
        return {
            name: {column["name"] for column in inspector.get_columns(name)} for name in inspector.get_table_names()
        }

    async with store.engine.connect() as connection:
        tables = await connection.run_sync(shape)
    expected = {table.name: {column.name for column in table.columns} for table in GatewayTable.metadata.sorted_tables}
    assert tables.pop("schema_version") == {"version", "name", "applied_at"}
    assert tables == expected


async def test_migrating_twice_applies_nothing_the_second_time(store: SqlStore) -> None:
    assert await store.migrate() == len(MIGRATIONS)
    async with store.engine.connect() as connection:
        versions = (await connection.execute(text("SELECT version FROM schema_version"))).scalars().all()
    assert versions == [migration.version for migration in MIGRATIONS]


async def test_gateways_starting_together_migrate_once(settings: GatewaySettings) -> None:
    stores = [SqlStore(create_engine(settings.resolved_database_url())) for _ in range(3)]
    try:
        versions = await asyncio.gather(*(store.migrate() for store in stores))
        assert versions == [len(MIGRATIONS)] * 3
        async with stores[0].engine.connect() as connection:
            rows = (await connection.execute(text("SELECT version FROM schema_version"))).scalars().all()
        assert rows == [migration.version for migration in MIGRATIONS]
    finally:
        for store in stores:
            await store.close()


async def test_a_new_migration_is_applied_once_on_top_of_the_recorded_ones(store: SqlStore) -> None:
    applied: list[int] = []

    def add_column(connection) -> None:
        applied.append(2)
        connection.execute(text("ALTER TABLE spaces ADD COLUMN colour VARCHAR(16)"))

    later = (*MIGRATIONS, Migration(2, "space colour", add_column))
    assert await migrate(store.engine, later) == 2
    assert await migrate(store.engine, later) == 2
    assert applied == [2]


async def test_a_database_newer_than_the_code_is_refused(store: SqlStore) -> None:
    later = (*MIGRATIONS, Migration(2, "from the future", lambda connection: None))
    await migrate(store.engine, later)
    with pytest.raises(SchemaTooNew, match="schema version 2"):
        await migrate(store.engine, MIGRATIONS)


async def test_the_store_refuses_work_until_migrated(settings: GatewaySettings) -> None:
    store = SqlStore(create_engine(settings.resolved_database_url()))
    try:
        assert await store.problem() == "the database is not migrated yet"
        with pytest.raises(Unavailable):
            async with store.transaction():
                pass
        await store.migrate()
        assert await store.problem() is None
    finally:
        await store.close()


async def test_datetimes_come_back_as_the_same_aware_utc_instants(store: SqlStore) -> None:
    user = a_user()
    async with store.transaction(write=True) as tx:
        await tx.add_user(user)
    async with store.transaction() as tx:
        found = await tx.user(user.id)
    assert found == user
    assert found is not None and found.created_at.tzinfo is not None


async def test_two_accounts_cannot_share_an_email(store: SqlStore) -> None:
    async with store.transaction(write=True) as tx:
        await tx.add_user(a_user())
    with pytest.raises(Conflict, match="already exists"):
        async with store.transaction(write=True) as tx:
            await tx.add_user(a_user())


async def test_rotation_succeeds_once_for_a_given_old_hash(store: SqlStore) -> None:
    user = a_user()
    session = a_session(user)
    async with store.transaction(write=True) as tx:
        await tx.add_user(user)
        await tx.add_session(session)
    later = NOW + timedelta(minutes=1)
    async with store.transaction(write=True) as tx:
        assert await tx.rotate_session(session.id, "a" * 64, "b" * 64, later + timedelta(days=30), later)
        assert not await tx.rotate_session(session.id, "a" * 64, "c" * 64, later + timedelta(days=30), later)
    async with store.transaction() as tx:
        assert await tx.session_by_refresh_hash("a" * 64) is None
        rotated = await tx.session_by_refresh_hash("b" * 64)
    assert rotated is not None and rotated.expires_at == later + timedelta(days=30)


async def test_a_revoked_or_expired_session_is_not_rotated(store: SqlStore) -> None:
    user = a_user()
    live, expired = a_session(user, "a" * 64), a_session(user, "b" * 64)
    async with store.transaction(write=True) as tx:
        await tx.add_user(user)
        await tx.add_session(live)
        await tx.add_session(expired)
        await tx.revoke_session(live.id, NOW)
    after_expiry = expired.expires_at + timedelta(seconds=1)
    async with store.transaction(write=True) as tx:
        assert not await tx.rotate_session(live.id, "a" * 64, "c" * 64, NOW + timedelta(days=1), NOW)
        assert not await tx.rotate_session(expired.id, "b" * 64, "d" * 64, NOW + timedelta(days=60), after_expiry)
    async with store.transaction() as tx:
        revoked = await tx.session(live.id)
    assert revoked is not None and revoked.revoked_at == NOW and not revoked.is_live(NOW)


async def test_deleting_a_space_deletes_its_memberships(store: SqlStore) -> None:
    owner, guest = a_user("owner@example.com"), a_user("guest@example.com")
    space, membership = a_space(owner)
    async with store.transaction(write=True) as tx:
        await tx.add_user(owner)
        await tx.add_user(guest)
        await tx.add_space(space, membership)
        await tx.add_member(Member(space.id, guest.id, Role.VIEWER, NOW, NOW))
    async with store.transaction(write=True) as tx:
        await tx.delete_space(space.id)
    async with store.transaction() as tx:
        assert await tx.space(space.id) is None
        assert await tx.members(space.id) == []
        assert await tx.spaces_of(guest.id) == []
        assert await tx.user(guest.id) is not None


async def test_a_member_cannot_be_added_twice(store: SqlStore) -> None:
    owner = a_user()
    space, membership = a_space(owner)
    async with store.transaction(write=True) as tx:
        await tx.add_user(owner)
        await tx.add_space(space, membership)
    with pytest.raises(Conflict, match="already a member"):
        async with store.transaction(write=True) as tx:
            await tx.add_member(Member(space.id, owner.id, Role.VIEWER, NOW, NOW))


async def test_an_unknown_role_is_refused_by_the_database(store: SqlStore) -> None:
    owner = a_user()
    space, membership = a_space(owner)
    async with store.transaction(write=True) as tx:
        await tx.add_user(owner)
        await tx.add_space(space, membership)
    with pytest.raises(IntegrityError, match=r"ck_members_role|CHECK constraint"):
        async with store.transaction(write=True) as tx:
            await tx.db.exec(text("UPDATE members SET role = 'admin' WHERE space_id = :id").bindparams(id=space.id))


async def test_owner_count_and_roles_follow_changes(store: SqlStore) -> None:
    owner, other = a_user("owner@example.com"), a_user("other@example.com")
    space, membership = a_space(owner)
    async with store.transaction(write=True) as tx:
        await tx.add_user(owner)
        await tx.add_user(other)
        await tx.add_space(space, membership)
        await tx.add_member(Member(space.id, other.id, Role.EDITOR, NOW, NOW))
        assert await tx.owner_count(space.id) == 1
        await tx.set_role(space.id, other.id, Role.OWNER, NOW)
        assert await tx.owner_count(space.id) == 2
        assert await tx.role(space.id, other.id) is Role.OWNER
        await tx.remove_member(space.id, other.id)
        assert await tx.role(space.id, other.id) is None
