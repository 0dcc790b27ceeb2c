"""Fixtures: a real nats-server from the virtualenv and a real PostgreSQL, started by the tests; and, under a
failing test, the output of the processes it started (`failure_output`).

Registered as a pytest plugin (entry point `makefx`), so every test folder gets them
without copying a conftest.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from makefx_cli.nats_server import NatsServer
from makefx_testing import failure_output


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[pytest.TestReport]:
    report: pytest.TestReport = yield
    if report.failed and report.when == "call":
        for title, text in failure_output.sections():
            report.sections.append((f"output of {title}", text))
    return report


@pytest.fixture(scope="session")
def nats_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[NatsServer]:
    """One JetStream-enabled nats-server on a free port for the whole session."""
    server = NatsServer(tmp_path_factory.mktemp("nats"))
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def fresh_nats_server(tmp_path: Path) -> Iterator[NatsServer]:
    """A nats-server of this test's own, for tests that restart or inspect a pristine server."""
    server = NatsServer(tmp_path / "nats")
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A PostgreSQL 16 from the `pgserver` wheel, in a temporary directory, for the session.

    Its data lives outside pytest's basetemp: pytest prunes old basetemp folders, and a
    concurrent pytest run would otherwise delete a running server's data directory.
    """
    import pgserver

    data_dir = Path(tempfile.mkdtemp(prefix="makefx-pg-"))
    server = pgserver.get_server(data_dir, cleanup_mode="stop")
    try:
        yield server.get_uri()
    finally:
        server.cleanup()
        shutil.rmtree(data_dir, ignore_errors=True)
