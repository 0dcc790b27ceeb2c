"""Every chart under deploy/helm renders with Helm's own engine, lints clean and yields valid Kubernetes objects.

Rendering and linting use Helm 4's Go library (the `helm-python-sdk` wheel), so templates,
sprig functions, `.Files`, subcharts and `values.schema.json` behave exactly as under
`helm install`. Each object is validated against the Kubernetes OpenAPI schemas shipped in
the `kubernetes-validate` wheel, in strict mode (unknown fields are errors), for every
Kubernetes version that wheel knows.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import helm_python as helm
import kubernetes_validate
import kubernetes_validate.utils
import pytest
import yaml
from packaging.version import Version

from makefx_cli.nats_server import find_binary
from makefx_contracts.topology import SERVICES
from makefx_natsconfig import known_users, password_variable
from tests.deploy.conftest import HELM, REPO

NAMESPACE = "makefx"
LIBRARY = "makefx-common"
CHARTS = sorted(
    path.name
    for path in HELM.iterdir()
    if (path / "Chart.yaml").exists() and yaml.safe_load((path / "Chart.yaml").read_text()).get("type") != "library"
)
VALUE_SETS = ("defaults", "production")
# The Kubernetes releases the charts support: 1.30 and every newer one the wheel has schemas for.
KUBERNETES_VERSIONS = sorted(
    {v for v in kubernetes_validate.utils.all_versions() if Version(v) >= Version("1.30")}, key=Version
)
# Kinds whose schemas are not Kubernetes' own (CRDs): checked by hand below.
CUSTOM_KINDS = {("monitoring.coreos.com/v1", "ServiceMonitor")}


@dataclass(frozen=True)
class Rendered:
    chart: str
    value_set: str
    # (template path, object) for every object the chart renders.
    entries: list[tuple[str, dict[str, Any]]]

    @property
    def objects(self) -> list[dict[str, Any]]:
        return [o for _, o in self.entries]

    def of_kind(self, kind: str) -> list[dict[str, Any]]:
        return [o for o in self.objects if o["kind"] == kind]

    def one(self, kind: str) -> dict[str, Any]:
        (found,) = self.of_kind(kind)
        return found


def release_name(chart: str) -> str:
    return f"makefx-{chart}"


def values_of(chart: str, value_set: str) -> dict[str, Any] | None:
    if value_set == "defaults":
        return None
    return helm.values_from_yaml((HELM / chart / "values-production.yaml").read_text())


def render(chart_dir: Path, values: dict[str, Any] | None, *, name: str) -> dict[str, str]:
    """Template path -> manifest; a template error fails the test with Helm's message (file and line)."""
    try:
        with helm.Chart.load(chart_dir) as chart:
            return chart.render(values, name=name, namespace=NAMESPACE, is_install=True)
    except helm.HelmError as error:
        pytest.fail(f"helm could not render {chart_dir.name}: {error}", pytrace=False)


def objects_of(manifests: dict[str, str]) -> list[tuple[str, dict[str, Any]]]:
    return [
        (template, document)
        for template, text in sorted(manifests.items())
        if template.endswith(".yaml")
        for document in yaml.safe_load_all(text)
        if document
    ]


@pytest.fixture(scope="module", autouse=True)
def quiet_helm() -> Iterator[None]:
    helm.disable_logging()
    yield


@pytest.fixture(scope="module")
def rendered() -> dict[tuple[str, str], Rendered]:
    results = {}
    for chart in CHARTS:
        for value_set in VALUE_SETS:
            manifests = render(HELM / chart, values_of(chart, value_set), name=release_name(chart))
            results[chart, value_set] = Rendered(chart, value_set, objects_of(manifests))
    return results


def pod_spec(workload: dict[str, Any]) -> dict[str, Any]:
    return workload["spec"]["template"]["spec"]


def workload_of(result: Rendered) -> dict[str, Any]:
    (workload,) = result.of_kind("Deployment") + result.of_kind("StatefulSet")
    return workload


# -- Helm's engine: render, lint, schema ---------------------------------------------------------------


def test_every_service_of_the_topology_has_a_chart_and_so_does_nats() -> None:
    assert set(CHARTS) == {*SERVICES, "nats"}


@pytest.mark.parametrize("value_set", VALUE_SETS)
@pytest.mark.parametrize("chart", CHARTS)
def test_chart_lints_clean_in_strict_mode(chart: str, value_set: str) -> None:
    report = helm.lint(HELM / chart, values_of(chart, value_set), strict=True, namespace=NAMESPACE)
    problems = [m for m in report["messages"] if m["severity"] >= 2]
    assert (report["errors"], problems) == ([], [])


@pytest.mark.parametrize("value_set", VALUE_SETS)
@pytest.mark.parametrize("chart", CHARTS)
def test_every_rendered_object_is_valid_kubernetes(
    rendered: dict[tuple[str, str], Rendered], chart: str, value_set: str
) -> None:
    result = rendered[chart, value_set]
    assert result.objects
    problems = []
    for source, document in result.entries:
        if (document["apiVersion"], document["kind"]) in CUSTOM_KINDS:
            continue
        for version in KUBERNETES_VERSIONS:
            try:
                kubernetes_validate.validate(document, version, strict=True)
            except kubernetes_validate.ValidationError as error:
                path = ".".join(str(p) for p in error.path)
                problems.append(f"{source} {document['kind']} (Kubernetes {version}): {path}: {error.message}")
    assert problems == []


@pytest.mark.parametrize("chart", CHARTS)
def test_values_that_break_the_schema_are_refused_before_rendering(chart: str) -> None:
    with helm.Chart.load(HELM / chart) as loaded, pytest.raises(helm.HelmValuesError, match="replicaCount"):
        loaded.render({"replicaCount": "three"}, name=release_name(chart), namespace=NAMESPACE)


def test_a_template_error_names_the_template_file_and_line(tmp_path: Path) -> None:
    chart = tmp_path / "gateway"
    shutil.copytree(HELM / "gateway", chart, symlinks=False)
    (chart / "templates" / "broken.yaml").write_text("kind: ConfigMap\nname: {{ .Values.nope.missing }}\n")
    with helm.Chart.load(chart) as loaded, pytest.raises(helm.HelmRenderError, match=r"templates/broken\.yaml:2"):
        loaded.render(None, name="makefx-gateway", namespace=NAMESPACE)


# -- what the objects must say -------------------------------------------------------------------------


@pytest.mark.parametrize("value_set", VALUE_SETS)
@pytest.mark.parametrize("chart", sorted(SERVICES))
def test_service_pods_run_as_their_nats_user_non_root_with_health_probes(
    rendered: dict[tuple[str, str], Rendered], chart: str, value_set: str
) -> None:
    result = rendered[chart, value_set]
    spec = pod_spec(workload_of(result))
    (container,) = spec["containers"]
    config = result.one("ConfigMap")["data"]
    assert config["MAKEFX_NATS_USER"] == chart
    password = next(e for e in container["env"] if e["name"] == "MAKEFX_NATS_PASSWORD")
    assert password["valueFrom"]["secretKeyRef"] == {"name": "makefx-nats-users", "key": chart}
    assert config["MAKEFX_HTTP_HOST"] == "0.0.0.0"
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert container["startupProbe"]["httpGet"]["path"] == "/healthz"
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert spec["securityContext"]["runAsNonRoot"] is True
    assert spec["securityContext"]["runAsUser"] != 0
    assert container["securityContext"]["allowPrivilegeEscalation"] is False
    assert container["resources"]["requests"] and container["resources"]["limits"]["memory"]


@pytest.mark.parametrize("value_set", VALUE_SETS)
def test_space_state_is_a_statefulset_whose_pod_name_is_the_replica_id(
    rendered: dict[tuple[str, str], Rendered], value_set: str
) -> None:
    result = rendered["space-state", value_set]
    assert result.of_kind("Deployment") == []
    workload = result.one("StatefulSet")
    assert workload["metadata"]["name"] == "makefx-space-state"  # pods: makefx-space-state-0, -1, …
    (container,) = pod_spec(workload)["containers"]
    replica = next(e for e in container["env"] if e["name"] == "MAKEFX_REPLICA_ID")
    assert replica["valueFrom"]["fieldRef"]["fieldPath"] == "metadata.name"
    (claim,) = workload["spec"]["volumeClaimTemplates"]
    assert claim["metadata"]["name"] == "data"
    assert {"name": "data", "mountPath": "/data"} in container["volumeMounts"]
    headless = result.one("Service")
    assert headless["spec"]["clusterIP"] == "None"
    assert workload["spec"]["serviceName"] == headless["metadata"]["name"]
    assert workload["spec"]["replicas"] >= 3


@pytest.mark.parametrize("value_set", VALUE_SETS)
@pytest.mark.parametrize("chart", CHARTS)
def test_services_disruption_budgets_and_autoscalers_select_the_charts_own_pods(
    rendered: dict[tuple[str, str], Rendered], chart: str, value_set: str
) -> None:
    result = rendered[chart, value_set]
    workload = workload_of(result)
    pod_labels = workload["spec"]["template"]["metadata"]["labels"]
    ports = {p["name"] for c in pod_spec(workload)["containers"] for p in c["ports"]}
    assert workload["spec"]["selector"]["matchLabels"].items() <= pod_labels.items()
    for service in result.of_kind("Service"):
        assert service["spec"]["selector"].items() <= pod_labels.items()
        assert {p["targetPort"] for p in service["spec"]["ports"]} <= ports
    for budget in result.of_kind("PodDisruptionBudget"):
        assert budget["spec"]["selector"]["matchLabels"].items() <= pod_labels.items()
    for autoscaler in result.of_kind("HorizontalPodAutoscaler"):
        target = autoscaler["spec"]["scaleTargetRef"]
        assert (target["kind"], target["name"]) == (workload["kind"], workload["metadata"]["name"])
        assert "replicas" not in workload["spec"]
    for monitor in result.of_kind("ServiceMonitor"):
        selected = [
            s
            for s in result.of_kind("Service")
            if monitor["spec"]["selector"]["matchLabels"].items() <= s["metadata"]["labels"].items()
        ]
        assert len(selected) == 1, "a ServiceMonitor must scrape each pod once"
        assert monitor["spec"]["endpoints"][0]["port"] in {p["name"] for p in selected[0]["spec"]["ports"]}


def test_production_values_autoscale_the_stateless_services_and_monitor_everything(
    rendered: dict[tuple[str, str], Rendered],
) -> None:
    autoscaled = {c for c in SERVICES if rendered[c, "production"].of_kind("HorizontalPodAutoscaler")}
    monitored = {c for c in SERVICES if rendered[c, "production"].of_kind("ServiceMonitor")}
    assert autoscaled == {"gateway", "generation", "chat", "media"}
    assert monitored == set(SERVICES)
    assert {c for c in SERVICES if rendered[c, "defaults"].of_kind("HorizontalPodAutoscaler")} == set()


def test_provider_keys_and_credentials_come_from_secrets(rendered: dict[tuple[str, str], Rendered]) -> None:
    expected = {
        "gateway": {"MAKEFX_DATABASE_URL", "MAKEFX_JWT_SECRET"},
        "generation": {"GEMINI_API_KEY", "ELEVENLABS_API_KEY"},
        "chat": {"ANTHROPIC_API_KEY"},
        "media": {"MAKEFX_S3_ACCESS_KEY", "MAKEFX_S3_SECRET_KEY", "MAKEFX_MEDIA_SIGNING_SECRET"},
        "billing": {"POLAR_ACCESS_TOKEN"},
        "space-state": set(),
    }
    for chart, names in expected.items():
        result = rendered[chart, "production"]
        (container,) = pod_spec(workload_of(result))["containers"]
        from_secrets = {e["name"] for e in container["env"] if "secretKeyRef" in e.get("valueFrom", {})}
        assert from_secrets == names | {"MAKEFX_NATS_PASSWORD"}, chart
        config = result.one("ConfigMap")["data"]
        assert not any(("KEY" in k and "S3_BUCKET" not in k) or "TOKEN" in k or "SECRET" in k for k in config), chart


# -- the NATS chart ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("value_set", VALUE_SETS)
def test_nats_chart_reads_every_users_password_from_the_users_secret(
    rendered: dict[tuple[str, str], Rendered], value_set: str
) -> None:
    result = rendered["nats", value_set]
    (container,) = pod_spec(result.one("StatefulSet"))["containers"]
    secret_keys = {
        e["name"]: e["valueFrom"]["secretKeyRef"]["key"]
        for e in container["env"]
        if "secretKeyRef" in e.get("valueFrom", {})
    }
    assert secret_keys == {password_variable(user): user for user in known_users()}


@pytest.mark.parametrize("value_set", VALUE_SETS)
def test_nats_chart_config_is_accepted_by_the_real_nats_server(
    rendered: dict[tuple[str, str], Rendered], value_set: str, tmp_path: Path
) -> None:
    result = rendered["nats", value_set]
    for name, content in result.one("ConfigMap")["data"].items():
        (tmp_path / name).write_text(content)
    environment = {password_variable(user): f"p{user.replace('-', '')}-test-password" for user in known_users()}
    environment["POD_NAME"] = "makefx-nats-0"
    checked = subprocess.run(
        [find_binary(), "-t", "-c", str(tmp_path / "nats-server.conf")],
        env=environment,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_production_nats_is_a_cluster_of_three_routed_by_stable_pod_names(
    rendered: dict[tuple[str, str], Rendered],
) -> None:
    config = rendered["nats", "production"].one("ConfigMap")["data"]["nats-server.conf"]
    for index in range(3):
        assert f"nats://makefx-nats-{index}.makefx-nats-headless.{NAMESPACE}.svc:6222" in config


def test_nats_chart_ships_the_generated_users_file() -> None:
    shipped = HELM / "nats" / "files" / "authorization.conf"
    assert shipped.read_text() == (REPO / "deploy" / "nats" / "authorization.conf").read_text()
