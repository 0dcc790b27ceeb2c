"""Billing runs with its own NATS user (permissions derived from the topology) without a single violation."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from makefx_bus import Bus
from makefx_cli.nats_server import NatsServer
from makefx_contracts.usage import GetUsage
from makefx_natsconfig import generate_passwords, render_config
from makefx_settings import ServiceSettings

from .conftest import eventually


@pytest.fixture
def secured_nats(tmp_path: Path) -> Iterator[tuple[NatsServer, dict[str, str]]]:
    passwords = generate_passwords()
    config = tmp_path / "nats-server.conf"
    config.write_text(render_config(passwords, jetstream_dir=None))
    server = NatsServer(tmp_path / "store", config_file=config)
    server.start()
    try:
        yield server, passwords
    finally:
        server.stop()


def as_user(server: NatsServer, passwords: dict[str, str], user: str) -> ServiceSettings:
    return ServiceSettings(service_name=user, nats_url=server.url, nats_user=user, nats_password=passwords[user])


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_billing_consumes_usage_and_answers_queries_as_its_own_user(
    secured_nats, start_billing, make_settings, make_usage
) -> None:
    server, passwords = secured_nats
    billing = await start_billing(
        make_settings(nats_url=server.url, nats_user="billing", nats_password=passwords["billing"])
    )
    generation = Bus(as_user(server, passwords, "generation"))
    gateway = Bus(as_user(server, passwords, "gateway"))
    await generation.start()
    await gateway.start()
    try:
        usage = make_usage()
        await generation.persist(usage, msg_id=usage.id)

        async def recorded() -> bool:
            return usage.id in {u.id for u in await billing.store.unsynced(100)}

        await eventually(billing.store, recorded)
        summary = await gateway.request(GetUsage(user_id=usage.user_id, since=0, until=int(time.time() * 1000) + 1))
        assert summary.events == 1
    finally:
        await generation.stop()
        await gateway.stop()
    await billing.stop()
    log = server.log_file.read_text(errors="replace")
    assert "Violation" not in log, [line for line in log.splitlines() if "Violation" in line]
