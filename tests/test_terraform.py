"""Layer 1: the rendered Terraform parses, is wired right, and passes checkov, offline.

Every configuration with `include_terraform` is checked; checkov and `terraform
validate` run on the two that differ most (every option on; SQLite, no Redis, no
provider).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Bake
from tests.helpers import SUPPORTED, answers_for
from tests.iac import (
    load_terraform_dir,
    run_checkov,
    terraform_binary,
    terraform_dirs,
    wiring_problems,
)
from tests.processes import run

CONFIGS = [
    name
    for name, extra in SUPPORTED.items()
    if str(answers_for(extra)["include_terraform"]).lower() == "true"
]
CHECKOV_CONFIGS = ["deploy_both", "deploy_bare"]
ENVIRONMENTS = ["staging", "prod"]
MODULES = ["network", "secrets", "database", "cache", "service"]
SECRET_SETTINGS = ("SECRET_KEY", "DATABASE_URL", "_API_KEY")


@pytest.fixture(params=CONFIGS)
def config_id(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def terraform(baked: Bake, config_id: str) -> Path:
    return baked(config_id) / "deploy" / "terraform"


def _on(answers: dict[str, Any], option: str) -> bool:
    return str(answers[option]).lower() == "true"


def test_the_layout_is_modules_and_environments(terraform: Path, config_id: str) -> None:
    found = {str(path.relative_to(terraform)) for path in terraform_dirs(terraform)}
    redis = _on(answers_for(SUPPORTED[config_id]), "use_redis")
    expected = {f"modules/{name}" for name in MODULES if redis or name != "cache"}
    expected |= {f"environments/{name}" for name in ENVIRONMENTS}
    assert found == expected


def test_module_calls_and_references_are_wired(terraform: Path) -> None:
    problems = wiring_problems(terraform)
    assert problems == [], "\n".join(["", *problems])


def test_variables_and_outputs_are_documented(terraform: Path) -> None:
    undocumented = []
    for path in terraform_dirs(terraform):
        folder = load_terraform_dir(path)
        where = path.relative_to(terraform)
        for name, body in folder.variables.items():
            if not str(body.get("description", "")).strip('"') or "type" not in body:
                undocumented.append(f"{where}: variable {name}")
        for name, body in folder.outputs.items():
            if not str(body.get("description", "")).strip('"'):
                undocumented.append(f"{where}: output {name}")
    assert undocumented == []


@pytest.mark.parametrize("environment", ENVIRONMENTS)
def test_environments_call_the_modules_the_options_need(
    terraform: Path, config_id: str, environment: str
) -> None:
    folder = load_terraform_dir(terraform / "environments" / environment)
    sources = {call: folder.module_dir(call).name for call in folder.modules}
    expected = {
        "secrets": "secrets",
        "network": "network",
        "database": "database",
        "api": "service",
        "worker": "service",
    }
    if _on(answers_for(SUPPORTED[config_id]), "use_redis"):
        expected["cache"] = "cache"
    assert sources == expected
    worker = folder.modules["worker"]
    assert worker["command"] == "${var.worker_command}"
    assert "load_balancer" not in worker
    assert folder.variables["worker_count"]["default"] == 0
    assert folder.variables["worker_command"]["default"] == [
        '"python"',
        '"-m"',
        '"app.worker"',
    ]
    assert "/health" in str(folder.modules["api"]["load_balancer"])


def test_the_service_scales_on_cpu_and_requests_per_target(terraform: Path) -> None:
    service = load_terraform_dir(terraform / "modules" / "service")
    metrics = [
        str(policy["target_tracking_scaling_policy_configuration"])
        for policy in service.resources["aws_appautoscaling_policy"].values()
    ]
    assert any("ECSServiceAverageCPUUtilization" in m for m in metrics)
    assert any("ALBRequestCountPerTarget" in m for m in metrics)
    health = str(service.resources["aws_lb_target_group"]["this"]["health_check"])
    assert "health_check_path" in health
    assert '"/health"' in str(service.variables["load_balancer"]["type"])


def test_no_secret_in_outputs_state_or_plain_settings(terraform: Path) -> None:
    """Secrets are written write-only and reach tasks as `secrets`, never as values."""
    for path in terraform_dirs(terraform):
        folder = load_terraform_dir(path)
        where = path.relative_to(terraform)
        for name, body in folder.outputs.items():
            assert "sensitive" not in body, f"{where}: output {name} is a secret"
            assert "password" not in str(body["value"]), f"{where}: output {name}"
        for version in folder.resources.get("aws_secretsmanager_secret_version", {}).values():
            assert "secret_string" not in version
            assert "secret_string_wo" in version
        for database in folder.resources.get("aws_db_instance", {}).values():
            assert "password" not in database
            assert "password_wo" in database
        assert "random_password" not in folder.resources, f"{where}: kept in state"
    for environment in ENVIRONMENTS:
        root = load_terraform_dir(terraform / "environments" / environment)
        plain, secret = str(root.locals["environment"]), str(root.locals["secrets"])
        assert not [name for name in SECRET_SETTINGS if name in plain]
        assert "SECRET_KEY" in secret
        assert "DATABASE_URL" in secret


def test_terraform_fmt(terraform: Path) -> None:
    binary = terraform_binary()
    if binary is None:
        pytest.skip("terraform is not installed; the other checks read the files")
    outcome = run([binary, "fmt", "-check", "-recursive", "-diff"], terraform)
    assert outcome.ok, outcome.tail()


def _provider_mirror() -> Path | None:
    """A local copy of hashicorp/aws for `terraform init -plugin-dir` (no registry)."""
    candidates = [os.environ.get("TF_PLUGIN_DIR", ""), "/opt/tf-plugins"]
    candidates.append(str(Path.home() / ".terraform.d" / "plugins"))
    for candidate in filter(None, candidates):
        if (Path(candidate) / "registry.terraform.io" / "hashicorp" / "aws").is_dir():
            return Path(candidate)
    return None


# Both environments and both option extremes, in two runs (each loads the provider).
@pytest.mark.parametrize(
    ("config_id", "environment"), [("deploy_both", "prod"), ("deploy_bare", "staging")]
)
def test_terraform_validate_with_a_local_provider(
    baked: Bake, tmp_path: Path, config_id: str, environment: str
) -> None:
    binary, mirror = terraform_binary(), _provider_mirror()
    if binary is None or mirror is None:
        pytest.skip(
            "needs terraform and a local hashicorp/aws provider (TF_PLUGIN_DIR): "
            "the registry is unreachable offline"
        )
    copy = tmp_path / "terraform"
    shutil.copytree(baked(config_id) / "deploy/terraform", copy)
    root = copy / "environments" / environment
    init = run(
        [binary, "init", "-backend=false", "-input=false", f"-plugin-dir={mirror}"],
        root,
        timeout=300,
    )
    assert init.ok, init.tail()
    validate = run([binary, "validate", "-no-color"], root, timeout=300)
    assert validate.ok, validate.tail()


@pytest.mark.parametrize("config_id", CHECKOV_CONFIGS)
def test_checkov_finds_nothing_unjustified(checkov: Path, baked: Bake, config_id: str) -> None:
    report = run_checkov(checkov, baked(config_id) / "deploy/terraform", "terraform")
    print(f"checkov terraform [{config_id}]: {report.summary()}")
    assert report.parsing_errors == []
    assert report.failed == [], "\n".join(["", *report.failed])
    assert report.passed > 100
    unexplained = [skip for skip in report.skipped if skip.endswith(": ")]
    assert unexplained == [], "every skip states its reason"
