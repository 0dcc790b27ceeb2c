"""Fixtures of the gateway tests: a database of each kind, settings, a running gateway, accounts.

Every test that asks for `database_url` runs twice: on SQLite (the file the gateway
creates in its data dir) and on a fresh PostgreSQL database of its own.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi import FastAPI

from makefx_auth import AccessTokens
from makefx_bus import Bus
from makefx_cli.nats_server import NatsServer
from makefx_gateway.app import bootstrap
from makefx_gateway.settings import GatewaySettings
from makefx_gateway.store import SqlStore, create_engine
from makefx_settings import ServiceSettings
from makefx_testing.databases import postgres_database

SECRET = "test-secret-that-is-long-enough-for-hs256"
PASSWORD = "correct horse battery"


@pytest.fixture(params=["sqlite", "postgres"])
async def database_url(request: pytest.FixtureRequest) -> AsyncIterator[str | None]:
    """None for SQLite at the default place (<data_dir>/gateway.sqlite), else a new PostgreSQL database."""
    if request.param == "sqlite":
        yield None
        return
    async with postgres_database(request.getfixturevalue("postgres_url"), prefix="gw") as url:
        yield url


@pytest.fixture
def make_settings(database_url: str | None, nats_server: NatsServer, tmp_path: Path) -> Callable[..., GatewaySettings]:
    """Settings for a test gateway; keyword arguments override any field."""

    def make(**overrides: Any) -> GatewaySettings:
        values: dict[str, Any] = {
            "nats_url": nats_server.url,
            "data_dir": tmp_path / "data",
            "database_url": database_url,
            "jwt_secret": SECRET,
            "access_cookie_secure": False,
            # Cheap hashes keep the suite fast; production defaults are tested separately.
            "argon2_time_cost": 1,
            "argon2_memory_cost_kib": 8,
            "argon2_parallelism": 1,
            "log_format": "text",
        }
        values.update(overrides)
        return GatewaySettings(**values)

    return make


@pytest.fixture
def settings(make_settings: Callable[..., GatewaySettings]) -> GatewaySettings:
    return make_settings()


@pytest.fixture
def access_tokens(settings: GatewaySettings) -> AccessTokens:
    """An issuer with the test gateway's HS256 key: for tokens the gateway did not hand out itself."""
    return AccessTokens(settings.signing_keys(), issuer=settings.jwt_issuer, ttl_seconds=60)


@dataclass
class RunningGateway:
    app: FastAPI
    settings: GatewaySettings
    url: str
    client: httpx.AsyncClient


@pytest.fixture
async def start_gateway() -> AsyncIterator[Callable[[GatewaySettings], Awaitable[RunningGateway]]]:
    """Starts real gateways (uvicorn on a free port, this test's event loop); stops them after the test."""
    async with contextlib.AsyncExitStack() as stack:

        async def start(settings: GatewaySettings) -> RunningGateway:
            app = bootstrap(settings)
            server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_config=None, lifespan="on"))
            task = asyncio.create_task(server.serve())

            async def stop() -> None:
                server.should_exit = True
                await task

            stack.push_async_callback(stop)
            async with asyncio.timeout(20):
                while not server.started:
                    if task.done():
                        task.result()
                        raise RuntimeError("the gateway stopped during startup")
                    await asyncio.sleep(0.01)
            port = server.servers[0].sockets[0].getsockname()[1]
            url = f"http://127.0.0.1:{port}"
            client = await stack.enter_async_context(httpx.AsyncClient(base_url=url, timeout=10))
            return RunningGateway(app=app, settings=settings, url=url, client=client)

        yield start


@pytest.fixture
async def gateway(start_gateway: Callable[[GatewaySettings], Awaitable[RunningGateway]], settings: GatewaySettings):
    return await start_gateway(settings)


@pytest.fixture
def client(gateway: RunningGateway) -> httpx.AsyncClient:
    return gateway.client


@dataclass
class Account:
    """A registered user and the tokens of their first session."""

    id: str
    email: str
    name: str
    password: str
    access_token: str
    refresh_token: str
    body: dict[str, Any] = field(repr=False)

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.access_token}"}


@pytest.fixture
def register(client: httpx.AsyncClient) -> Callable[..., Awaitable[Account]]:
    """Registers a new user (a unique email unless given) through the API."""

    async def make(name: str = "Ada", email: str | None = None, password: str = PASSWORD) -> Account:
        email = email or f"{name.lower()}-{uuid.uuid4().hex[:8]}@example.com"
        response = await client.post("/api/auth/register", json={"email": email, "password": password, "name": name})
        assert response.status_code == 201, response.text
        body = response.json()
        client.cookies.clear()
        return Account(
            id=body["user"]["id"],
            email=email,
            name=name,
            password=password,
            access_token=body["accessToken"],
            refresh_token=body["refreshToken"],
            body=body,
        )

    return make


@dataclass
class SharedSpace:
    id: str
    owner: Account
    editor: Account
    viewer: Account


@pytest.fixture
def shared_space(client: httpx.AsyncClient, register: Callable[..., Awaitable[Account]]):
    """A space with an owner, an editor and a viewer."""

    async def make() -> SharedSpace:
        owner, editor, viewer = await register("Owner"), await register("Editor"), await register("Viewer")
        created = await client.post("/api/spaces", json={"name": "Moon base"}, headers=owner.headers)
        assert created.status_code == 201, created.text
        space_id = created.json()["space"]["id"]
        for account, role in ((editor, "editor"), (viewer, "viewer")):
            added = await client.post(
                f"/api/spaces/{space_id}/members", json={"email": account.email, "role": role}, headers=owner.headers
            )
            assert added.status_code == 201, added.text
        return SharedSpace(space_id, owner, editor, viewer)

    return make


@pytest.fixture
async def bus_client(nats_server: NatsServer) -> AsyncIterator[Bus]:
    """Another service's bus, to ask the gateway identity questions over real NATS."""
    bus = Bus(ServiceSettings(nats_url=nats_server.url, service_name="identity-test-client"))
    await bus.start()
    try:
        yield bus
    finally:
        await bus.stop()


def error_of(response: httpx.Response) -> dict[str, Any]:
    """The `error` object of an error response, checking the envelope's shape on the way."""
    body = response.json()
    assert set(body) == {"error"}, body
    assert set(body["error"]) == {"code", "message", "details"}, body
    return body["error"]


@pytest.fixture
def error() -> Callable[[httpx.Response], dict[str, Any]]:
    return error_of


@pytest.fixture
async def store(settings: GatewaySettings) -> AsyncIterator[SqlStore]:
    """The SQL store on this test's database, migrated."""
    store = SqlStore(create_engine(settings.resolved_database_url()))
    await store.migrate()
    try:
        yield store
    finally:
        await store.close()
