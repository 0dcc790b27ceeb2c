"""The product's services as real processes in a test: `python -m makefx_<name>`, settings in the environment.

As in production, each service reads its settings from `MAKEFX_*` variables; a test may stop
one, kill it (SIGKILL) and start it again. A service's output is appended to a file in the
test's folder and shown when it does not come up, or when the test fails while it runs.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from makefx_cli.nats_server import NatsServer, free_port
from makefx_testing.failure_output import Registration

TEST_SETTINGS = {
    "MAKEFX_HTTP_HOST": "127.0.0.1",
    "MAKEFX_JWT_SECRET": "j" * 40,
    "MAKEFX_MEDIA_SIGNING_SECRET": "m" * 40,
    "MAKEFX_LOG_FORMAT": "text",
    "MAKEFX_ACCESS_COOKIE_SECURE": "false",
    # Password hashing as cheap as argon2 allows: registering is not what the tests measure.
    "MAKEFX_ARGON2_TIME_COST": "1",
    "MAKEFX_ARGON2_MEMORY_COST_KIB": "8192",
    "PYTHONUNBUFFERED": "1",
}
"""What every service started by a test gets: test secrets, text logs, output unbuffered."""

_NOT_INHERITED = ("MAKEFX_", "ANTHROPIC_", "GEMINI_", "ELEVENLABS_", "GOOGLE_CLOUD_", "POLAR_")
"""The test's own settings and any provider key in the developer's environment: a test never calls a real provider."""

_OUTPUT_SHOWN = 4000


def service_env(**settings: str) -> dict[str, str]:
    """This process's environment without settings or provider keys, then `TEST_SETTINGS`, then `settings`."""
    env = {key: value for key, value in os.environ.items() if not key.startswith(_NOT_INHERITED)}
    return env | TEST_SETTINGS | settings


@dataclass
class ServiceProcess:
    """One service: `python -m makefx_<name>` with `env`, serving HTTP on `port`, its output appended to `log`."""

    name: str
    port: int
    env: dict[str, str]
    log: Path
    popen: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def is_running(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    def start(self) -> None:
        with self.log.open("ab") as out:
            self.popen = subprocess.Popen(
                [sys.executable, "-m", f"makefx_{self.name.replace('-', '_')}"],
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def kill(self) -> None:
        """SIGKILL: no shutdown hook runs, whatever it was doing is cut short."""
        if self.popen is not None and self.is_running:
            self.popen.send_signal(signal.SIGKILL)
            self.popen.wait(timeout=10)

    def stop(self) -> None:
        """SIGTERM, as an orchestrator stops it; killed if it has not stopped within 20 seconds."""
        if self.popen is not None and self.is_running:
            self.popen.send_signal(signal.SIGTERM)
            try:
                self.popen.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill()

    async def wait_ready(self, timeout: float = 60) -> None:
        """Return once `/readyz` answers 200; fail with the service's output if it exits or the time runs out."""
        deadline = time.monotonic() + timeout
        async with httpx.AsyncClient(timeout=2) as client:
            while time.monotonic() < deadline and self.is_running:
                with contextlib.suppress(httpx.HTTPError, ValueError):
                    answer = await client.get(f"{self.url}/readyz")
                    if answer.status_code == 200:
                        # Another process may hold the port picked for this one (it was free when picked).
                        serving = answer.json().get("service")
                        if serving != self.name:
                            raise AssertionError(f"port {self.port} of {self.name} is answered by {serving!r}")
                        return
                await asyncio.sleep(0.1)
        raise AssertionError(f"{self.name} did not become ready; its output:\n{self.output()}")

    def output(self) -> str:
        """The end of what the service wrote (nothing before it started)."""
        if not self.log.exists():
            return ""
        return self.log.read_text(errors="replace")[-_OUTPUT_SHOWN:]


class Services:
    """A nats-server and the services of one test, all in the test's folder `root` (data in `root/data`)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.nats = NatsServer(root / "nats")
        self.processes: dict[str, ServiceProcess] = {}
        self._shown: list[Registration] = []

    def add(self, name: str, **settings: str) -> ServiceProcess:
        """A service on a free port, on this nats-server and data folder (not started); a second one of a name
        is keyed and logged as `<name>-2`, …"""
        port = free_port()
        while port in {process.port for process in self.processes.values()}:
            port = free_port()  # a port handed back by the system twice must not serve two services
        key = name
        copies = 1
        while key in self.processes:
            copies += 1
            key = f"{name}-{copies}"
        env = service_env(
            MAKEFX_NATS_URL=self.nats.url,
            MAKEFX_DATA_DIR=str(self.root / "data"),
            MAKEFX_HTTP_PORT=str(port),
            **settings,
        )
        process = ServiceProcess(name, port, env, self.root / f"{key}.log")
        self.processes[key] = process
        self._shown.append(Registration(key, process.output))
        return process

    def start_nats(self) -> None:
        (self.root / "data").mkdir(parents=True, exist_ok=True)
        self.nats.start()

    async def launch(self, *processes: ServiceProcess) -> None:
        """Start them all at once, then wait until each is ready."""
        for process in processes:
            process.start()
        for process in processes:
            await process.wait_ready()

    def stop(self) -> None:
        """Every service, the last added first, then the nats-server."""
        for process in reversed(list(self.processes.values())):
            process.stop()
        self.nats.stop()
        for shown in self._shown:
            shown.close()
