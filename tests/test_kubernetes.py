"""Layer 1: every Kustomize overlay builds, holds what a deployment needs, passes checkov.

Each overlay is built as rendered and with the worker component switched on the way
the generated README says (uncommenting `components:`), with the kubectl on PATH.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import Bake
from tests.helpers import SUPPORTED, answers_for
from tests.iac import kustomize_version, run_checkov
from tests.processes import run

CONFIGS = [
    name
    for name, extra in SUPPORTED.items()
    if str(answers_for(extra)["include_kubernetes"]).lower() == "true"
]
CHECKOV_CONFIGS = ["deploy_both", "deploy_bare"]
OVERLAYS = ["staging", "prod"]
BASE_KINDS = {
    "ServiceAccount",
    "ConfigMap",
    "Service",
    "Deployment",
    "Ingress",
    "HorizontalPodAutoscaler",
    "PodDisruptionBudget",
    "Job",
    "NetworkPolicy",
}
COMPONENTS_LINE = re.compile(
    r"^# (components:\n)#(   - \.\./\.\./components/worker)$", re.MULTILINE
)

Build = Callable[[str, str, bool], list[dict[str, Any]]]


@pytest.fixture(scope="session")
def kubectl() -> str:
    """The kubectl executable, with a kustomize new enough for `labels` and components."""
    found = shutil.which("kubectl")
    if found is None:
        pytest.skip("kubectl is not installed (Debian: apt-get install kubectl)")
    version = kustomize_version(found)
    if version is None or version < (5, 0):
        pytest.skip(f"kubectl's kustomize {version} is older than v5.0")
    return found


@pytest.fixture(scope="session")
def build(kubectl: str, baked: Bake, tmp_path_factory: pytest.TempPathFactory) -> Build:
    """`kubectl kustomize` of one overlay of one configuration, parsed (cached)."""
    cache: dict[tuple[str, str, bool], list[dict[str, Any]]] = {}

    def built(config_id: str, overlay: str, worker: bool) -> list[dict[str, Any]]:
        key = (config_id, overlay, worker)
        if key not in cache:
            copy = tmp_path_factory.mktemp(f"k8s-{config_id}") / "k8s"
            shutil.copytree(baked(config_id) / "deploy/k8s", copy)
            kustomization = copy / "overlays" / overlay / "kustomization.yaml"
            if worker:
                text = kustomization.read_text(encoding="utf-8")
                text, switched = COMPONENTS_LINE.subn(r"\1\2", text)
                assert switched == 1, "the overlay offers the worker component"
                kustomization.write_text(text, encoding="utf-8")
            outcome = run([kubectl, "kustomize", str(copy / "overlays" / overlay)], copy)
            assert outcome.ok, outcome.tail()
            cache[key] = [doc for doc in yaml.safe_load_all(outcome.output) if doc]
        return cache[key]

    return built


@pytest.fixture(params=CONFIGS)
def config_id(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(params=OVERLAYS)
def overlay(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def _app(config_id: str) -> str:
    slug = str(answers_for(SUPPORTED[config_id])["project_slug"])
    return slug.replace("_", "-")[:40].rstrip("-")


def _pods(documents: list[dict[str, Any]]) -> Iterator[tuple[str, dict[str, Any]]]:
    for doc in documents:
        if doc["kind"] in ("Deployment", "Job"):
            yield doc["metadata"]["name"], doc["spec"]["template"]["spec"]


def _named(documents: list[dict[str, Any]], kind: str, name: str) -> dict[str, Any]:
    matches = [d for d in documents if d["kind"] == kind and d["metadata"]["name"] == name]
    assert len(matches) == 1, f"{kind} {name}"
    return matches[0]


@pytest.mark.parametrize("worker", [False, True], ids=["api", "with_worker"])
def test_overlay_builds_the_expected_objects(
    build: Build, config_id: str, overlay: str, worker: bool
) -> None:
    documents = build(config_id, overlay, worker)
    app = _app(config_id)
    assert {doc["kind"] for doc in documents} == BASE_KINDS
    deployments = {d["metadata"]["name"] for d in documents if d["kind"] == "Deployment"}
    assert deployments == {f"{app}-api"} | ({f"{app}-worker"} if worker else set())
    api = _named(documents, "Deployment", f"{app}-api")["spec"]["template"]["spec"]
    # The API executes runs itself unless workers do.
    assert any(entry["name"] == "RUN_ROLE" for entry in api["containers"][0]["env"]) == worker
    namespace = app if overlay == "prod" else f"{app}-{overlay}"
    assert {doc["metadata"].get("namespace") for doc in documents} == {namespace}
    assert not [doc for doc in documents if doc["kind"] == "Secret"]


def test_pods_are_locked_down(build: Build, config_id: str, overlay: str) -> None:
    for name, pod in _pods(build(config_id, overlay, True)):
        assert pod["automountServiceAccountToken"] is False, name
        context = pod["securityContext"]
        assert context["runAsNonRoot"] is True, name
        assert context["runAsUser"] >= 10000, name
        assert context["seccompProfile"] == {"type": "RuntimeDefault"}, name
        for container in pod["containers"]:
            own = container["securityContext"]
            assert own["readOnlyRootFilesystem"] is True, name
            assert own["allowPrivilegeEscalation"] is False, name
            assert own["capabilities"]["drop"] == ["ALL"], name
            resources = container["resources"]
            for bound in ("requests", "limits"):
                assert set(resources[bound]) == {"cpu", "memory"}, name


def test_probes_commands_and_scaling(build: Build, config_id: str, overlay: str) -> None:
    documents, app = build(config_id, overlay, True), _app(config_id)
    api = _named(documents, "Deployment", f"{app}-api")
    container = api["spec"]["template"]["spec"]["containers"][0]
    assert container["readinessProbe"]["httpGet"]["path"] == "/health/ready"
    assert container["livenessProbe"]["httpGet"]["path"] == "/health"
    assert "replicas" not in api["spec"], "the HorizontalPodAutoscaler owns replicas"
    worker = _named(documents, "Deployment", f"{app}-worker")["spec"]["template"]["spec"]
    [runner] = worker["containers"]
    assert runner["command"][:3] == ["python", "-m", "app.worker"]
    assert runner["readinessProbe"]["httpGet"] == {"path": "/health/ready", "port": "probes"}
    assert runner["livenessProbe"]["httpGet"] == {"path": "/health", "port": "probes"}
    [probes] = runner["ports"]
    assert runner["command"][-2:] == ["--port", str(probes["containerPort"])]
    # With workers, the API pods queue runs for them instead of executing them.
    assert {"name": "RUN_ROLE", "value": "api"} in container["env"]
    job = _named(documents, "Job", f"{app}-migrate")
    command = job["spec"]["template"]["spec"]["containers"][0]["command"]
    assert command == ["alembic", "upgrade", "head"]
    hpa = _named(documents, "HorizontalPodAutoscaler", f"{app}-api")
    assert hpa["spec"]["scaleTargetRef"]["name"] == f"{app}-api"
    assert 1 <= hpa["spec"]["minReplicas"] < hpa["spec"]["maxReplicas"]
    backend = _named(documents, "Ingress", f"{app}-api")["spec"]["rules"][0]["http"]
    assert backend["paths"][0]["backend"]["service"]["name"] == f"{app}-api"


def test_secrets_are_references_and_the_image_comes_from_the_overlay(
    build: Build, config_id: str, overlay: str
) -> None:
    documents, app = build(config_id, overlay, True), _app(config_id)
    answers = answers_for(SUPPORTED[config_id])
    for doc in documents:
        if doc["kind"] == "ConfigMap":
            assert not [key for key in doc["data"] if re.search(r"KEY|URL", key)]
    for name, pod in _pods(documents):
        container = pod["containers"][0]
        assert container["image"] == f"registry.example.com/{app}:{answers['version']}"
        references = {
            entry["name"]: entry["valueFrom"]["secretKeyRef"]
            for entry in container["env"]
            if "valueFrom" in entry
        }
        assert {ref["name"] for ref in references.values()} == {f"{app}-secrets"}
        assert {"SECRET_KEY", "DATABASE_URL"} <= set(references), name
        providers = [key for key in references if key.endswith("_API_KEY")]
        assert all(references[key].get("optional") is True for key in providers)
        if not name.endswith("-migrate"):
            redis = str(answers["use_redis"]).lower() == "true"
            assert ("REDIS_URL" in references) == redis, name


@pytest.mark.parametrize("config_id", CHECKOV_CONFIGS)
def test_checkov_finds_nothing_unjustified(
    checkov: Path, build: Build, config_id: str, tmp_path: Path
) -> None:
    for overlay in OVERLAYS:
        documents = build(config_id, overlay, True)
        (tmp_path / f"{overlay}.yaml").write_text(
            yaml.safe_dump_all(documents, sort_keys=False), encoding="utf-8"
        )
    report = run_checkov(checkov, tmp_path, "kubernetes")
    print(f"checkov kubernetes [{config_id}]: {report.summary()}")
    assert report.parsing_errors == []
    assert report.failed == [], "\n".join(["", *report.failed])
    assert report.passed > 100
    unexplained = [skip for skip in report.skipped if skip.endswith(": ")]
    assert unexplained == [], "every skip states its reason"
