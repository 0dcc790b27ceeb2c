"""docker-compose.yml's services, run as local processes with the environment compose resolves for them.

There is no Docker engine here, so the containers' processes run directly: NATS from
deploy/nats/ (store directory and ports from the command line), a real PostgreSQL and a
real S3 server in place of the postgres and minio containers, and every service with
exactly its compose environment except addresses and ports. Every service must become
ready as its own NATS user without a single permission violation.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy.engine import make_url

from makefx_cli.nats_server import NatsServer, free_port
from makefx_storage.seaweed import SeaweedS3
from tests.deploy.conftest import DEPLOY, INIT_ENV, REPO, chart_of, compose_config, read_env_file

pytestmark = pytest.mark.slow


@pytest.fixture
def compose_env(tmp_path: Path) -> tuple[dict[str, Any], dict[str, str]]:
    env_file = tmp_path / ".env"
    subprocess.run(["sh", str(INIT_ENV), str(env_file)], check=True, capture_output=True, timeout=30)
    checked = compose_config(env_file)
    assert checked.returncode == 0, checked.stderr
    return yaml.safe_load(checked.stdout), read_env_file(env_file)


@pytest.fixture
def nats_from_deploy_config(
    tmp_path: Path, compose_env: tuple[dict[str, Any], dict[str, str]], monkeypatch: pytest.MonkeyPatch
) -> Iterator[NatsServer]:
    resolved, _ = compose_env
    for variable, value in resolved["services"]["nats"]["environment"].items():
        monkeypatch.setenv(variable, value)
    directory = tmp_path / "nats"
    directory.mkdir()
    config = (DEPLOY / "nats" / "nats-server.conf").read_text()
    # The container's store directory and ports become the command line's (NatsServer's -sd, -p).
    config = re.sub(r"jetstream \{[^}]*\}", "jetstream: enabled", config)
    config = re.sub(r"^(port|http_port): \d+$", "", config, flags=re.MULTILINE)
    (directory / "nats-server.conf").write_text(config)
    (directory / "authorization.conf").write_text((DEPLOY / "nats" / "authorization.conf").read_text())
    server = NatsServer(directory / "store", config_file=directory / "nats-server.conf")
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def s3(tmp_path: Path, compose_env: tuple[dict[str, Any], dict[str, str]]) -> Iterator[SeaweedS3]:
    _, secrets = compose_env
    server = SeaweedS3(
        tmp_path / "s3", access_key=secrets["MINIO_ROOT_USER"], secret_key=secrets["MINIO_ROOT_PASSWORD"]
    )
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def gateway_database(postgres_url: str) -> str:
    """A database of its own in the session's PostgreSQL, as the compose postgres container gives the gateway."""
    import asyncio

    import asyncpg

    name = f"compose_{os.getpid()}_{time.monotonic_ns()}"

    async def create() -> None:
        connection = await asyncpg.connect(postgres_url)
        try:
            await connection.execute(f'CREATE DATABASE "{name}"')
        finally:
            await connection.close()

    asyncio.run(create())
    return make_url(postgres_url).set(database=name).render_as_string(hide_password=False)


def test_every_compose_service_becomes_ready_as_its_own_nats_user(
    tmp_path: Path,
    compose_env: tuple[dict[str, Any], dict[str, str]],
    nats_from_deploy_config: NatsServer,
    s3: SeaweedS3,
    gateway_database: str,
) -> None:
    resolved, _ = compose_env
    processes: dict[str, tuple[subprocess.Popen[bytes], int]] = {}
    try:
        for name, service in resolved["services"].items():
            if "build" not in service:
                continue  # postgres, minio: started above as real servers
            environment = {k: str(v) for k, v in service["environment"].items() if v is not None}
            port = free_port()
            environment.update(
                MAKEFX_NATS_URL=nats_from_deploy_config.url,
                MAKEFX_HTTP_HOST="127.0.0.1",
                MAKEFX_HTTP_PORT=str(port),
                MAKEFX_DATA_DIR=str(tmp_path / name),
                MAKEFX_LOG_FORMAT="text",
                PATH=os.environ["PATH"],
            )
            if "MAKEFX_DATABASE_URL" in environment:
                environment["MAKEFX_DATABASE_URL"] = gateway_database
            if "MAKEFX_S3_ENDPOINT" in environment:
                environment["MAKEFX_S3_ENDPOINT"] = s3.url
            (tmp_path / name).mkdir()
            with open(tmp_path / f"{name}.log", "wb") as log:
                module = "makefx_" + chart_of(name).replace("-", "_")
                processes[name] = (
                    subprocess.Popen(
                        [sys.executable, "-m", module],
                        env=environment,
                        cwd=REPO,
                        stdout=log,
                        stderr=subprocess.STDOUT,
                        start_new_session=True,
                    ),
                    port,
                )
        not_ready = wait_until_ready(processes, timeout=90)
        assert not_ready == {}, {name: (tmp_path / f"{name}.log").read_text()[-2000:] for name in not_ready}
        assert set(processes) == {n for n, s in resolved["services"].items() if "build" in s}
        violations = [line for line in nats_from_deploy_config.log_file.read_text().splitlines() if "Violation" in line]
        assert violations == []
    finally:
        stop(processes)


def wait_until_ready(processes: dict[str, tuple[subprocess.Popen[bytes], int]], timeout: float) -> dict[str, str]:
    """Poll each /readyz until 200; return the services that were not ready in time, with why."""
    pending = {name: "never answered" for name in processes}
    deadline = time.monotonic() + timeout
    while pending and time.monotonic() < deadline:
        for name in list(pending):
            process, port = processes[name]
            if process.poll() is not None:
                pending[name] = f"exited with {process.returncode}"
                continue
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=2) as response:
                    if response.status == 200:
                        del pending[name]
            except (urllib.error.URLError, OSError) as error:
                pending[name] = str(error)
        if all(processes[n][0].poll() is not None for n in pending):
            break
        time.sleep(0.1)
    return pending


def stop(processes: dict[str, tuple[subprocess.Popen[bytes], int]]) -> None:
    for process, _ in processes.values():
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
    for process, _ in processes.values():
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
