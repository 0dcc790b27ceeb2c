"""docker-compose.yml is valid for a real compose implementation, complete, and wired like the charts.

Validation runs Debian's `docker-compose` (`config` needs no Docker engine) on the file with
the `.env` that `deploy/compose/init-env.sh` writes for a new user.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from makefx_contracts.topology import SERVICES
from makefx_natsconfig import is_safe_password, known_users, password_variable
from tests.deploy.conftest import (
    COMPOSE_FILE,
    DEPLOY,
    HELM,
    INIT_ENV,
    REPO,
    chart_of,
    compose_config,
    read_env_file,
)

# Run by the platform in Kubernetes (a managed PostgreSQL, S3 or MinIO), so they have no chart here.
INFRASTRUCTURE = {"postgres", "minio", "minio-init"}


@pytest.fixture(scope="module")
def env_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    target = tmp_path_factory.mktemp("compose") / ".env"
    subprocess.run(["sh", str(INIT_ENV), str(target)], check=True, capture_output=True, timeout=30)
    return target


@pytest.fixture(scope="module")
def resolved(env_file: Path) -> dict[str, Any]:
    checked = compose_config(env_file)
    assert checked.returncode == 0, checked.stderr
    return yaml.safe_load(checked.stdout)


def test_compose_file_is_valid_with_the_env_a_new_user_generates(resolved: dict[str, Any]) -> None:
    assert set(resolved["services"]) >= {"nats", "gateway"}


def test_compose_refuses_to_run_without_the_generated_secrets(tmp_path: Path) -> None:
    empty = tmp_path / ".env"
    empty.write_text("")
    checked = compose_config(empty)
    assert checked.returncode != 0
    assert "init-env.sh" in checked.stderr


def test_every_compose_service_is_a_chart_or_infrastructure_and_every_chart_runs_in_compose(
    resolved: dict[str, Any],
) -> None:
    charts = {
        p.name
        for p in HELM.iterdir()
        if (p / "Chart.yaml").exists() and yaml.safe_load((p / "Chart.yaml").read_text()).get("type") != "library"
    }
    running = {chart_of(name) for name in resolved["services"]} - INFRASTRUCTURE
    assert running == charts


@pytest.mark.parametrize("service", sorted(SERVICES))
def test_each_service_connects_as_its_own_nats_user_with_its_password(
    resolved: dict[str, Any], env_file: Path, service: str
) -> None:
    secrets = read_env_file(env_file)
    instances = [s for name, s in resolved["services"].items() if chart_of(name) == service]
    assert instances
    for instance in instances:
        environment = instance["environment"]
        assert environment["MAKEFX_NATS_URL"] == "nats://nats:4222"
        assert environment["MAKEFX_NATS_USER"] == service
        assert environment["MAKEFX_NATS_PASSWORD"] == secrets[password_variable(service)]
        assert environment["MAKEFX_HTTP_HOST"] == "0.0.0.0"
        assert instance["build"]["dockerfile"] == f"services/{service}/Dockerfile"
        assert (REPO / instance["build"]["dockerfile"]).exists()
        assert instance["depends_on"]["nats"]["condition"] == "service_healthy"


def test_nats_gets_every_users_password_and_the_generated_config(resolved: dict[str, Any], env_file: Path) -> None:
    secrets = read_env_file(env_file)
    nats = resolved["services"]["nats"]
    assert nats["environment"] == {password_variable(u): secrets[password_variable(u)] for u in known_users()}
    mounts = {volume.split(":")[1]: volume.split(":")[0] for volume in nats["volumes"] if isinstance(volume, str)}
    assert Path(mounts["/etc/nats"]) == DEPLOY / "nats"
    assert nats["command"] == ["--config", "/etc/nats/nats-server.conf"]


def test_three_space_state_replicas_have_their_own_id_and_volume(resolved: dict[str, Any]) -> None:
    replicas = {name: s for name, s in resolved["services"].items() if chart_of(name) == "space-state"}
    assert len(replicas) == 3
    ids = {s["environment"]["MAKEFX_REPLICA_ID"] for s in replicas.values()}
    volumes = {v.split(":")[0] for s in replicas.values() for v in s["volumes"]}
    assert ids == set(replicas)
    assert len(volumes) == 3
    for volume in volumes:
        assert volume in resolved["volumes"]


def test_the_gateway_uses_postgres_and_media_uses_minio(resolved: dict[str, Any], env_file: Path) -> None:
    secrets = read_env_file(env_file)
    gateway = resolved["services"]["gateway"]["environment"]
    assert gateway["MAKEFX_DATABASE_URL"] == f"postgresql://makefx:{secrets['POSTGRES_PASSWORD']}@postgres:5432/makefx"
    assert gateway["MAKEFX_JWT_SECRET"] == secrets["MAKEFX_JWT_SECRET"]
    media = resolved["services"]["media"]
    assert media["environment"]["MAKEFX_STORAGE_BACKEND"] == "s3"
    assert media["environment"]["MAKEFX_S3_ENDPOINT"] == "http://minio:9000"
    assert media["depends_on"]["minio-init"]["condition"] == "service_completed_successfully"


def test_provider_keys_pass_through_only_when_set(tmp_path: Path, env_file: Path) -> None:
    with_key = tmp_path / ".env"
    with_key.write_text(env_file.read_text() + "ANTHROPIC_API_KEY=sk-ant-test\n")
    checked = compose_config(with_key)
    assert checked.returncode == 0, checked.stderr
    services = yaml.safe_load(checked.stdout)["services"]
    assert services["chat"]["environment"]["ANTHROPIC_API_KEY"] == "sk-ant-test"
    assert services["generation"]["environment"]["GEMINI_API_KEY"] is None  # unset: the local provider


def test_init_env_writes_every_variable_compose_requires_with_safe_passwords(env_file: Path) -> None:
    required = set(re.findall(r"\$\{([A-Z0-9_]+):\?", COMPOSE_FILE.read_text()))
    secrets = read_env_file(env_file)
    assert required <= set(secrets)
    for user in known_users():
        assert is_safe_password(secrets[password_variable(user)])
    assert oct(env_file.stat().st_mode & 0o777) == oct(0o600)


def test_init_env_keeps_an_existing_env_file(env_file: Path) -> None:
    before = env_file.read_text()
    done = subprocess.run(["sh", str(INIT_ENV), str(env_file)], capture_output=True, text=True, timeout=30)
    assert done.returncode == 0
    assert env_file.read_text() == before


def test_every_image_is_pinned_to_a_version() -> None:
    declared = yaml.safe_load(COMPOSE_FILE.read_text())["services"]
    for name, service in declared.items():
        image = service["image"]
        repository, _, tag = image.partition(":")
        if repository.startswith("makefx/"):
            assert tag == "${MAKEFX_VERSION:-dev}", name
        else:
            assert re.search(r"\d+\.\d+|RELEASE\.\d{4}-", tag), f"{name}: {image} is not pinned"
