"""Fixtures for the deployment tests: the repository's paths, compose's own view of docker-compose.yml, and a
nats-server with one user per service."""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import subprocess
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

import nats
import pytest
from nats.aio.client import Client as NatsClient

from makefx_cli.nats_server import NatsServer
from makefx_natsconfig import generate_passwords, render_config

REPO = Path(__file__).resolve().parents[2]
DEPLOY = REPO / "deploy"
HELM = DEPLOY / "helm"
COMPOSE_FILE = REPO / "docker-compose.yml"
INIT_ENV = DEPLOY / "compose" / "init-env.sh"


def docker_compose() -> str:
    binary = shutil.which("docker-compose")
    if binary is None:
        pytest.fail("docker-compose is missing: scripts/setup-system.sh installs Debian's `docker-compose` package")
    return binary


def clean_environment() -> dict[str, str]:
    """No MAKEFX_*/NATS_* or provider variables of the developer's shell leak into the check."""
    return {"PATH": os.environ["PATH"], "HOME": os.environ.get("HOME", "/tmp")}


def compose_config(env_file: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [docker_compose(), "--env-file", str(env_file), "-f", str(COMPOSE_FILE), "config"],
        cwd=REPO,
        env=clean_environment(),
        capture_output=True,
        text=True,
        timeout=120,
    )


def read_env_file(path: Path) -> dict[str, str]:
    pairs = (line.split("=", 1) for line in path.read_text().splitlines() if line and not line.startswith("#"))
    return dict(pairs)


def chart_of(compose_service: str) -> str:
    """`space-state-2` runs the space-state chart's image; the others are named as their chart."""
    return re.sub(r"-\d+$", "", compose_service)


@dataclass
class SecuredNats:
    """A running nats-server whose users and permissions are those `deploy/nats/` declares."""

    server: NatsServer
    passwords: dict[str, str]

    @property
    def url(self) -> str:
        return self.server.url

    def violations(self, user: str) -> list[str]:
        """The permission violations the server logged for `user` so far."""
        marker = f'"$G/user:{user}" - '
        lines = self.server.log_file.read_text(errors="replace").splitlines()
        return [line.split(marker, 1)[1] for line in lines if marker in line and "Violation" in line]

    @asynccontextmanager
    async def connect(self, user: str) -> AsyncIterator[Connection]:
        connection = Connection(user)
        client = await nats.connect(
            self.url,
            user=user,
            password=self.passwords[user],
            error_cb=connection.on_error,
            allow_reconnect=False,
            name=f"test-{user}",
        )
        connection.client = client
        try:
            yield connection
        finally:
            await client.close()


@dataclass
class Connection:
    """A client connected as one user, recording the permission violations the server reports to it."""

    user: str
    client: NatsClient = field(init=False)
    refused: list[str] = field(default_factory=list)
    _refusal: asyncio.Event = field(default_factory=asyncio.Event)

    async def on_error(self, error: Exception) -> None:
        if "permissions violation" in str(error).lower():
            self.refused.append(str(error))
            self._refusal.set()

    async def settle(self) -> None:
        """Wait until the server has answered everything sent so far (a refusal arrives before the PONG)."""
        await self.client.flush(timeout=30)

    async def wait_refused(self, subject: str, timeout: float = 30.0) -> str:
        """The violation naming `subject`, waited for up to `timeout` seconds."""
        # nats-py lower-cases the server's error line, subject included.
        quoted = f'"{subject}"'.lower()
        async with asyncio.timeout(timeout):
            while True:
                for message in self.refused:
                    if quoted in message.lower():
                        return message
                self._refusal.clear()
                await self._refusal.wait()


@pytest.fixture(scope="module")
def secured_nats(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SecuredNats]:
    """A nats-server configured by `makefx_natsconfig.render_config`, every user with a fresh password."""
    directory = tmp_path_factory.mktemp("secured-nats")
    passwords = generate_passwords()
    config = directory / "nats-server.conf"
    config.write_text(render_config(passwords, jetstream_dir=None))
    server = NatsServer(directory / "store", config_file=config)
    server.start()
    try:
        yield SecuredNats(server, passwords)
    finally:
        server.stop()
