"""Each service's Dockerfile, checked statically (no Docker engine here): pinned, multi-stage, non-root, healthy.

Each instruction is read as Docker reads it (continuation lines joined, comments dropped).
"""

from __future__ import annotations

import importlib
import json
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from makefx_contracts.topology import SERVICES
from makefx_settings import ServiceSettings
from tests.deploy.conftest import DEPLOY, REPO


@dataclass(frozen=True)
class Instruction:
    keyword: str
    arguments: str


def instructions(dockerfile: Path) -> list[Instruction]:
    joined = re.sub(
        r"\\\n",
        " ",
        "\n".join(line for line in dockerfile.read_text().splitlines() if not line.lstrip().startswith("#")),
    )
    found = []
    for line in joined.splitlines():
        if line.strip():
            keyword, _, arguments = line.strip().partition(" ")
            found.append(Instruction(keyword.upper(), " ".join(arguments.split())))
    return found


def stages(dockerfile: Path) -> list[list[Instruction]]:
    result: list[list[Instruction]] = []
    for instruction in instructions(dockerfile):
        if instruction.keyword == "FROM":
            result.append([])
        if result:
            result[-1].append(instruction)
    return result


def module_of(service: str) -> str:
    return "makefx_" + service.replace("-", "_")


def http_port_of(service: str) -> int:
    settings = importlib.import_module(f"{module_of(service)}.settings")
    (cls,) = [
        v
        for v in vars(settings).values()
        if isinstance(v, type) and issubclass(v, ServiceSettings) and v.__module__ == settings.__name__
    ]
    return cls.model_fields["http_port"].default


def dockerfile_of(service: str) -> Path:
    return REPO / "services" / service / "Dockerfile"


SERVICE_NAMES = sorted(SERVICES)


@pytest.mark.parametrize("service", SERVICE_NAMES)
def test_base_image_is_pinned_to_an_exact_python_release(service: str) -> None:
    found = instructions(dockerfile_of(service))
    (base,) = [i.arguments for i in found if i.keyword == "ARG" and i.arguments.startswith("PYTHON_IMAGE=")]
    assert re.fullmatch(r"PYTHON_IMAGE=python:3\.11\.\d+-slim-[a-z]+", base), base
    node = [i.arguments for i in found if i.keyword == "ARG" and i.arguments.startswith("NODE_IMAGE=")]
    assert all(re.fullmatch(r"NODE_IMAGE=node:20\.\d+\.\d+-[a-z]+-slim", arg) for arg in node), node
    bases = {"${PYTHON_IMAGE}", "${NODE_IMAGE}"} if node else {"${PYTHON_IMAGE}"}
    assert all(i.arguments.split()[0] in bases for i in found if i.keyword == "FROM")


@pytest.mark.parametrize("service", SERVICE_NAMES)
def test_builder_installs_pinned_packages_and_the_final_stage_only_copies_the_venv(service: str) -> None:
    *_, builder, final = stages(dockerfile_of(service))
    installs = " ".join(i.arguments for i in builder if i.keyword == "RUN")
    assert "-c constraints.txt" in installs
    assert f"service_packages.py services/{service}" in installs
    expected = ["--from=builder /opt/venv /opt/venv"]
    if service == "gateway":  # and the browser app it serves, built in its own stage
        expected.append("--from=frontend /src/frontend/dist /opt/frontend")
    assert [i.arguments for i in final if i.keyword == "COPY"] == expected
    assert not [i for i in final if i.keyword == "RUN" and "pip install" in i.arguments]


@pytest.mark.parametrize("service", SERVICE_NAMES)
def test_final_stage_runs_as_a_non_root_user(service: str) -> None:
    final = stages(dockerfile_of(service))[-1]
    users = [i.arguments for i in final if i.keyword == "USER"]
    assert users, "no USER: the container would run as root"
    user = users[-1].split(":")[0]
    assert user.isdigit() and int(user) != 0  # numeric, so Kubernetes can check runAsNonRoot


@pytest.mark.parametrize("service", SERVICE_NAMES)
def test_image_exposes_the_services_port_and_checks_its_health(service: str) -> None:
    final = stages(dockerfile_of(service))[-1]
    port = http_port_of(service)
    assert [i.arguments for i in final if i.keyword == "EXPOSE"] == [str(port)]
    environment = " ".join(i.arguments for i in final if i.keyword == "ENV")
    assert f"MAKEFX_HTTP_PORT={port}" in environment
    assert "MAKEFX_HTTP_HOST=0.0.0.0" in environment
    (health,) = [i.arguments for i in final if i.keyword == "HEALTHCHECK"]
    assert "/healthz" in health and "urllib.request" in health


@pytest.mark.parametrize("service", SERVICE_NAMES)
def test_image_runs_the_service_module(service: str) -> None:
    final = stages(dockerfile_of(service))[-1]
    (command,) = [i.arguments for i in final if i.keyword == "CMD"]
    assert json.loads(command) == ["python", "-m", module_of(service)]
    importlib.import_module(f"{module_of(service)}.__main__")


@pytest.mark.parametrize("service", SERVICE_NAMES)
def test_healthcheck_command_passes_against_a_healthy_endpoint(service: str, tmp_path: Path) -> None:
    """The HEALTHCHECK's Python one-liner, run as the image would, against a real /healthz."""
    final = stages(dockerfile_of(service))[-1]
    (health,) = [i.arguments for i in final if i.keyword == "HEALTHCHECK"]
    one_liner = health.split(" CMD ", 1)[1]
    code = re.fullmatch(r'python -c "(.*)"', one_liner).group(1)
    server = subprocess.Popen([sys.executable, "-c", _HEALTHZ_SERVER], stdout=subprocess.PIPE, text=True)
    try:
        port = server.stdout.readline().strip()
        ok = subprocess.run([sys.executable, "-c", code], env={"MAKEFX_HTTP_PORT": port}, timeout=30)
        assert ok.returncode == 0
        missing = subprocess.run(
            [sys.executable, "-c", code.replace("/healthz", "/nothing-here")],
            env={"MAKEFX_HTTP_PORT": port},
            capture_output=True,
            timeout=30,
        )
        assert missing.returncode != 0
    finally:
        server.kill()
        server.wait()


_HEALTHZ_SERVER = """
import http.server
class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200 if self.path == "/healthz" else 404)
        self.end_headers()
    def log_message(self, *args):
        pass
server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
print(server.server_port, flush=True)
server.serve_forever()
"""


@pytest.mark.parametrize("service", SERVICE_NAMES)
def test_build_context_is_limited_to_what_the_image_needs(service: str) -> None:
    ignore = (dockerfile_of(service).parent / "Dockerfile.dockerignore").read_text().splitlines()
    assert ignore[ignore.index("*") :][:1] == ["*"]
    assert f"!services/{service}/" in ignore
    assert "!libs/" in ignore and "!constraints.txt" in ignore
    assert "**/tests" in ignore


@pytest.mark.parametrize("service", SERVICE_NAMES)
def test_the_image_installs_the_service_and_every_makefx_library_it_depends_on(service: str) -> None:
    listed = subprocess.run(
        [sys.executable, str(DEPLOY / "docker" / "service_packages.py"), f"services/{service}"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    ).stdout.split()
    assert listed[0] == f"./services/{service}"
    folders = {REPO / p for p in listed}
    assert all((folder / "pyproject.toml").exists() for folder in folders)
    # Everything the service imports from our libraries at run time is installed.
    expected = {"contracts", "settings", "telemetry", "bus", "runtime"}
    assert {REPO / "libs" / name for name in expected} <= folders
