"""Fixtures of the billing tests: a ledger database of each kind, settings, a fake Polar, running billing services.

Every test that asks for `database_url` runs twice: on SQLite (the file billing creates
in its data dir) and on a fresh PostgreSQL database of its own. A billing service runs
in the test's event loop (`start_billing`) or, for a test that kills it, as its own
process (`start_billing_process`, `python -m makefx_billing` with its settings in the
environment, as in production).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI

from makefx_billing.app import bootstrap
from makefx_billing.settings import BillingSettings
from makefx_billing.store import LedgerStore, create_engine
from makefx_bus import Bus
from makefx_cli.nats_server import NatsServer, free_port
from makefx_contracts.usage import UsageKind, UsageRecorded
from makefx_settings import ServiceSettings
from makefx_testing.app_server import AppServer
from makefx_testing.databases import postgres_database
from makefx_testing.services import ServiceProcess, service_env

from .fake_polar import FakePolar, running_fake_polar

POLAR_TOKEN = "polar_oat_test_token"
BillingProcess = ServiceProcess
"""`python -m makefx_billing` in a process of its own (the name billing's tests know it by)."""


@pytest.fixture(params=["sqlite", "postgres"])
async def database_url(request: pytest.FixtureRequest) -> AsyncIterator[str | None]:
    """None for SQLite at the default place (<data_dir>/billing.sqlite), else a new PostgreSQL database."""
    if request.param == "sqlite":
        yield None
        return
    async with postgres_database(request.getfixturevalue("postgres_url"), prefix="billing") as url:
        yield url


@pytest.fixture
def make_settings(
    database_url: str | None, nats_server: NatsServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Callable[..., BillingSettings]:
    """Settings for a test billing service (its own durable consumer); keyword arguments override any field."""
    monkeypatch.delenv("POLAR_ACCESS_TOKEN", raising=False)
    monkeypatch.delenv("MAKEFX_POLAR_ACCESS_TOKEN", raising=False)
    consumer = f"billing-test-{uuid.uuid4().hex[:8]}"

    def make(**overrides: Any) -> BillingSettings:
        values: dict[str, Any] = {
            "nats_url": nats_server.url,
            "data_dir": tmp_path / "data",
            "billing_database_url": database_url,
            "usage_consumer_name": consumer,
            "log_format": "text",
            "polar_retry_initial_seconds": 0.05,
            "polar_retry_max_seconds": 0.5,
        }
        values.update(overrides)
        return BillingSettings(**values)

    return make


@pytest.fixture
async def store(make_settings: Callable[..., BillingSettings]) -> AsyncIterator[LedgerStore]:
    """The ledger on this test's database, migrated."""
    store = LedgerStore(create_engine(make_settings().resolved_database_url()))
    await store.migrate()
    try:
        yield store
    finally:
        await store.close()


@pytest.fixture
async def fake_polar() -> AsyncIterator[FakePolar]:
    async with running_fake_polar(POLAR_TOKEN) as fake:
        yield fake


@dataclass
class RunningBilling:
    app: FastAPI
    settings: BillingSettings
    url: str
    stop: Callable[[], Awaitable[None]]

    @property
    def store(self) -> LedgerStore:
        return self.app.state.service.extra["store"]


@pytest.fixture
async def start_billing(
    make_settings: Callable[..., BillingSettings],
) -> AsyncIterator[Callable[[BillingSettings], Awaitable[RunningBilling]]]:
    """Starts real billing services (uvicorn on a free port, this test's event loop); stops them after the test,
    before its database goes."""
    async with contextlib.AsyncExitStack() as stack:

        async def start(settings: BillingSettings) -> RunningBilling:
            app = bootstrap(settings)
            server = AppServer(app, lifespan="on")
            stack.push_async_callback(server.stop)
            url = await server.start()
            return RunningBilling(app=app, settings=settings, url=url, stop=server.stop)

        yield start


@pytest.fixture
def start_billing_process(
    database_url: str | None, tmp_path: Path
) -> Iterator[Callable[[BillingSettings], ServiceProcess]]:
    """Starts billing services as processes with these settings (Polar's token as POLAR_ACCESS_TOKEN);
    stops the ones still running after the test, before its database goes."""
    started: list[ServiceProcess] = []

    def start(settings: BillingSettings) -> ServiceProcess:
        port = free_port()
        env = service_env(
            MAKEFX_NATS_URL=settings.nats_url,
            MAKEFX_DATA_DIR=str(settings.data_dir),
            MAKEFX_HTTP_PORT=str(port),
            MAKEFX_USAGE_CONSUMER_NAME=settings.usage_consumer_name,
            MAKEFX_POLAR_SYNC_INTERVAL_SECONDS=str(settings.polar_sync_interval_seconds),
            MAKEFX_POLAR_BATCH_SIZE=str(settings.polar_batch_size),
            MAKEFX_POLAR_TIMEOUT_SECONDS=str(settings.polar_timeout_seconds),
            MAKEFX_POLAR_RETRY_INITIAL_SECONDS=str(settings.polar_retry_initial_seconds),
            MAKEFX_POLAR_RETRY_MAX_SECONDS=str(settings.polar_retry_max_seconds),
        )
        if settings.billing_database_url:
            env["MAKEFX_BILLING_DATABASE_URL"] = settings.billing_database_url
        if settings.polar_server_url:
            env["MAKEFX_POLAR_SERVER_URL"] = settings.polar_server_url
        if settings.polar_access_token is not None:
            env["POLAR_ACCESS_TOKEN"] = settings.polar_access_token.get_secret_value()
        process = ServiceProcess("billing", port, env, tmp_path / f"billing-{len(started)}.log")
        started.append(process)
        process.start()
        return process

    try:
        yield start
    finally:
        for process in started:
            process.stop()


@pytest.fixture
async def publisher(nats_server: NatsServer) -> AsyncIterator[Bus]:
    """Another service's bus (a generation worker's), to publish usage and ask billing over real NATS."""
    bus = Bus(ServiceSettings(nats_url=nats_server.url, service_name="billing-test-client"))
    await bus.start()
    try:
        yield bus
    finally:
        await bus.stop()


_sequence = itertools.count()


@pytest.fixture
def make_usage() -> Callable[..., UsageRecorded]:
    """Usage events with unique ids, in a space and for a user unique to the test unless given."""
    space_id = f"space-{uuid.uuid4().hex[:10]}"
    user_id = f"user-{uuid.uuid4().hex[:10]}"

    def make(**overrides: Any) -> UsageRecorded:
        values: dict[str, Any] = {
            "id": f"var-{uuid.uuid4().hex[:12]}:{next(_sequence)}",
            "user_id": user_id,
            "space_id": space_id,
            "kind": UsageKind.GENERATION_IMAGE,
            "quantity": 1,
            "unit": "image",
            "credits": 4,
            "model": "gemini-3.1-flash-image",
            "provider": "gemini",
            "at": int(time.time() * 1000),
        }
        values.update(overrides)
        return UsageRecorded(**values)

    return make


async def eventually(ledger: LedgerStore, check: Callable[[], Awaitable[bool]], timeout: float = 30) -> None:
    """Wait until `check()` holds, re-checking at each change of the ledger, failing after `timeout` seconds."""
    async with asyncio.timeout(timeout):
        while True:
            changed = ledger.changes.next
            if await check():
                return
            await changed.wait()
