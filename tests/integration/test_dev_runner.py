"""`makefx dev` on a real machine: NATS and six services up, Ctrl-C stops all, data survives, no orphans."""

from __future__ import annotations

import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest

from makefx_cli.nats_server import free_port

pytestmark = pytest.mark.slow

MAKEFX = str(Path(sys.executable).parent / "makefx")
PROCESS_LINE = re.compile(r"^(?P<name>[\w-]+)\s+pid (?P<pid>\d+)\s+(?P<url>\S+)")


class Runner:
    """One `makefx dev` process whose output is read line by line in a thread."""

    def __init__(self, data_dir: Path, http_port: int, nats_port: int) -> None:
        env = dict(os.environ)
        env.update(
            MAKEFX_DATA_DIR=str(data_dir),
            MAKEFX_HTTP_PORT=str(http_port),
            MAKEFX_NATS_PORT=str(nats_port),
            MAKEFX_ARGON2_TIME_COST="1",
            MAKEFX_ARGON2_MEMORY_COST_KIB="8192",
        )
        self.process = subprocess.Popen(
            [MAKEFX, "dev"], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        self.lines: queue.Queue[str | None] = queue.Queue()
        self.seen: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.put(line.rstrip("\n"))
        self.lines.put(None)

    def wait_for(self, pattern: str, timeout: float = 90) -> str:
        deadline = time.monotonic() + timeout
        while (remaining := deadline - time.monotonic()) > 0:
            try:
                line = self.lines.get(timeout=remaining)
            except queue.Empty:
                break
            if line is None:
                break
            self.seen.append(line)
            if re.search(pattern, line):
                return line
        raise AssertionError(f"no line matched {pattern!r}; output so far:\n" + "\n".join(self.seen[-40:]))

    def processes(self) -> dict[str, tuple[int, str]]:
        found = {}
        for line in self.seen:
            match = PROCESS_LINE.match(line)
            if match:
                found[match["name"]] = (int(match["pid"]), match["url"])
        return found


def is_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    state = Path(f"/proc/{pid}/stat").read_text().split()[2] if Path(f"/proc/{pid}/stat").exists() else "X"
    return state not in ("Z", "X")


def wait_until_gone(pids: list[int], timeout: float = 20) -> list[int]:
    deadline = time.monotonic() + timeout
    alive = pids
    while alive and time.monotonic() < deadline:
        alive = [pid for pid in alive if is_alive(pid)]
        time.sleep(0.05)
    return alive


def test_makefx_dev_runs_the_product_stops_cleanly_and_keeps_its_data(tmp_path):
    http_port, nats_port = free_port(), free_port()
    account = {"email": "ada@example.com", "password": "correct horse battery", "name": "Ada"}

    runner = Runner(tmp_path / "data", http_port, nats_port)
    runner.wait_for(rf"Make Effects is running at http://127\.0\.0\.1:{http_port}")
    processes = runner.processes()
    assert set(processes) == {"nats-server", "space-state", "media", "generation", "chat", "billing", "gateway"}
    assert processes["nats-server"][1] == f"nats://127.0.0.1:{nats_port}"
    for name, (_, url) in processes.items():
        if name == "nats-server":
            continue
        ready = httpx.get(f"{url}/readyz", timeout=30)
        assert ready.status_code == 200, (name, ready.text)
        assert "makefx_http_requests_total" in httpx.get(f"{url}/metrics", timeout=30).text
    registered = httpx.post(f"http://127.0.0.1:{http_port}/api/auth/register", json=account, timeout=10)
    assert registered.status_code == 201, registered.text

    runner.process.send_signal(signal.SIGINT)
    assert runner.process.wait(timeout=60) == 0
    assert wait_until_gone([pid for pid, _ in processes.values()]) == []

    again = Runner(tmp_path / "data", http_port, nats_port)
    again.wait_for(r"Make Effects is running at")
    login = {"email": account["email"], "password": account["password"]}
    assert httpx.post(f"http://127.0.0.1:{http_port}/api/auth/login", json=login, timeout=10).status_code == 200

    # Even a supervisor killed outright takes its children with it.
    children = [pid for pid, _ in again.processes().values()]
    again.process.kill()
    again.process.wait(timeout=10)
    assert wait_until_gone(children) == []
