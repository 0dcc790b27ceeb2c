"""Runs the whole product on one machine: the embedded NATS server, then every service as its own process.

The supervisor starts NATS, starts each service with its environment, waits until
every `/readyz` answers 200, and on SIGINT/SIGTERM stops the services, then NATS.
Children get a parent-death signal, so even a killed supervisor leaves no orphans.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import secrets
import signal
import sys
from dataclasses import dataclass, field

import httpx

from makefx_cli.children import die_with_parent
from makefx_cli.nats_server import NatsServer, free_port
from makefx_cli.settings import RunnerSettings
from makefx_natsconfig import DEBUG_USER, connection_environment, generate_passwords, render_config


@dataclass(frozen=True)
class ServiceSpec:
    name: str
    module: str
    public: bool = False
    env: dict[str, str] = field(default_factory=dict)


SERVICES: tuple[ServiceSpec, ...] = (
    ServiceSpec("space-state", "makefx_space_state", env={"MAKEFX_REPLICA_ID": "state-0"}),
    ServiceSpec("media", "makefx_media"),
    ServiceSpec("generation", "makefx_generation"),
    ServiceSpec("chat", "makefx_chat"),
    ServiceSpec("billing", "makefx_billing"),
    ServiceSpec("gateway", "makefx_gateway", public=True),
)


@dataclass
class RunningService:
    spec: ServiceSpec
    port: int
    process: asyncio.subprocess.Process
    pump: asyncio.Task[None] | None = None

    @property
    def health_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


class Supervisor:
    def __init__(self, settings: RunnerSettings, *, out=sys.stdout) -> None:
        self.settings = settings
        self.data_dir = settings.data_dir.resolve()
        self.out = out
        self.nats = NatsServer(self.data_dir / "nats", port=settings.nats_port, config_file=self.data_dir / "nats.conf")
        self.running: list[RunningService] = []
        self.nats_passwords: dict[str, str] = {}

    def say(self, line: str) -> None:
        print(line, file=self.out, flush=True)

    def secret(self, name: str) -> str:
        """A random secret kept per data directory, so sessions and signed URLs survive a restart."""
        path = self.data_dir / "secrets" / name
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(secrets.token_urlsafe(48))
            path.chmod(0o600)
        return path.read_text().strip()

    def write_nats_config(self) -> None:
        """The same per-service users and permissions as production (deploy/nats), with local passwords.

        A service that touches a subject outside its permissions fails here, not in
        production. The `debug` user (read-only) needs no password, so the `nats` CLI
        works against the embedded server as it is.
        """
        path = self.data_dir / "secrets" / "nats-passwords.json"
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(generate_passwords()))
            path.chmod(0o600)
        self.nats_passwords = json.loads(path.read_text())
        config = self.nats.config_file
        assert config is not None
        config.write_text(render_config(self.nats_passwords, jetstream_dir=None, no_auth_user=DEBUG_USER))
        config.chmod(0o600)

    def environment(self, spec: ServiceSpec, port: int) -> dict[str, str]:
        env = dict(os.environ)
        env.update(
            MAKEFX_NATS_URL=self.nats.url,
            MAKEFX_DATA_DIR=str(self.data_dir),
            MAKEFX_HTTP_HOST=self.settings.http_host if spec.public else "127.0.0.1",
            MAKEFX_HTTP_PORT=str(port),
            MAKEFX_JWT_SECRET=env.get("MAKEFX_JWT_SECRET") or self.secret("jwt-secret"),
            MAKEFX_MEDIA_SIGNING_SECRET=env.get("MAKEFX_MEDIA_SIGNING_SECRET") or self.secret("media-signing-secret"),
            MAKEFX_LOG_FORMAT=env.get("MAKEFX_LOG_FORMAT", "text"),
            # Plain HTTP on this machine: a Secure cookie would never be sent back.
            MAKEFX_ACCESS_COOKIE_SECURE=env.get("MAKEFX_ACCESS_COOKIE_SECURE", "false"),
            PYTHONUNBUFFERED="1",
        )
        env.update(connection_environment(spec.name, self.nats_passwords[spec.name]))
        if spec.public and self.settings.frontend_dir is not None:
            env["MAKEFX_FRONTEND_DIR"] = str(self.settings.frontend_dir.resolve())
        env.update(spec.env)
        return env

    async def start(self) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.write_nats_config()
        # From this (the main) thread: the server's parent-death signal follows the forking thread.
        self.nats.start()
        pid = self.nats.process.pid
        self.say(f"{'nats-server':<15} pid {pid:<7} {self.nats.url}  (JetStream in {self.nats.store_dir})")
        for spec in SERVICES:
            port = self.settings.http_port if spec.public else free_port()
            process = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                spec.module,
                env=self.environment(spec, port),
                stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.STDOUT,
                start_new_session=True,
                preexec_fn=die_with_parent,
            )
            service = RunningService(spec, port, process)
            service.pump = asyncio.create_task(self._pump_logs(service))
            self.running.append(service)
            self.say(f"{spec.name:<15} pid {process.pid:<7} {service.health_url}")

    async def _pump_logs(self, service: RunningService) -> None:
        assert service.process.stdout is not None
        prefix = f"[{service.spec.name}] "
        async for line in service.process.stdout:
            self.out.write(prefix + line.decode(errors="replace"))
            self.out.flush()

    async def wait_ready(self) -> None:
        """Return when every service answers /readyz with 200; raise if one exits or time runs out."""
        async with httpx.AsyncClient(timeout=2) as client:
            async with asyncio.timeout(self.settings.ready_timeout_seconds):
                pending = list(self.running)
                while pending:
                    for service in list(pending):
                        if service.process.returncode is not None:
                            raise RuntimeError(f"{service.spec.name} exited with {service.process.returncode}")
                        with contextlib.suppress(httpx.HTTPError):
                            if (await client.get(f"{service.health_url}/readyz")).status_code == 200:
                                pending.remove(service)
                    if pending:
                        await asyncio.sleep(0.1)

    async def wait_for_exit(self) -> ServiceSpec:
        """Block until any service exits on its own; return which."""
        waits = {asyncio.create_task(s.process.wait()): s.spec for s in self.running}
        done, _ = await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
        for task in waits:
            task.cancel()
        return waits[done.pop()]

    async def stop(self) -> None:
        for service in self.running:
            if service.process.returncode is None:
                service.process.terminate()
        for service in self.running:
            try:
                async with asyncio.timeout(self.settings.stop_timeout_seconds):
                    await service.process.wait()
            except TimeoutError:
                self.say(f"{service.spec.name} did not stop in time; killing it")
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(service.process.pid, signal.SIGKILL)
                await service.process.wait()
            if service.pump is not None:
                await service.pump
        await asyncio.to_thread(self.nats.stop)
        self.say("stopped; data kept in " + str(self.data_dir))


async def run_dev(settings: RunnerSettings) -> int:
    supervisor = Supervisor(settings)
    stop_requested = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop_requested.set)
    exit_code = 0
    try:
        await supervisor.start()
        ready = asyncio.create_task(supervisor.wait_ready())
        stopping = asyncio.create_task(stop_requested.wait())
        await asyncio.wait({ready, stopping}, return_when=asyncio.FIRST_COMPLETED)
        if ready.done():
            ready.result()
            host = "127.0.0.1" if settings.http_host in ("0.0.0.0", "::") else settings.http_host
            supervisor.say(f"Make Effects is running at http://{host}:{settings.http_port}  (Ctrl-C stops it)")
            exited = asyncio.create_task(supervisor.wait_for_exit())
            await asyncio.wait({exited, stopping}, return_when=asyncio.FIRST_COMPLETED)
            if exited.done():
                supervisor.say(f"{exited.result().name} exited unexpectedly; stopping everything")
                exit_code = 1
            exited.cancel()
        ready.cancel()
        stopping.cancel()
    except (RuntimeError, TimeoutError) as error:
        supervisor.say(f"could not start: {error or 'services were not ready in time'}")
        exit_code = 1
    finally:
        await supervisor.stop()
    return exit_code
