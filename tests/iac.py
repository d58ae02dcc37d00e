"""Offline checks of the rendered deployment files: Terraform wiring, checkov, kustomize.

Terraform cannot reach its provider registry here, so the wiring `terraform validate`
would check is read from the files with python-hcl2: module arguments against module
variables, `module.X.Y` against module outputs, `var.X` against declarations.
checkov pins packages the generated projects need newer, so it lives in its own
virtualenv under `.cache/`, built once from requirements-checkov.txt.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import hcl2

from tests.helpers import TEMPLATE_DIR
from tests.processes import VENV_BIN, clean_env, run, tool

CHECKOV_REQUIREMENTS = TEMPLATE_DIR / "requirements-checkov.txt"
CHECKOV_VENV = TEMPLATE_DIR / ".cache" / "checkov"
# No update check and no download of Prisma's policy mappings: the scan stays offline.
CHECKOV_ENV = {"CKV_SKIP_PACKAGE_UPDATE_CHECK": "true", "BC_SKIP_MAPPING": "TRUE"}

# Arguments of a module block that are Terraform's, not the module's variables.
META_ARGUMENTS = {"source", "version", "count", "for_each", "providers", "depends_on"}
REFERENCE = {
    "var": re.compile(r"\bvar\.([A-Za-z_][\w-]*)"),
    "module": re.compile(r"\bmodule\.([A-Za-z_][\w-]*)\.([A-Za-z_][\w-]*)"),
}


# --- Terraform ------------------------------------------------------------------------


def unquote(text: str) -> str:
    """python-hcl2 keeps the quotes of labels and string literals; drop them."""
    return text[1:-1] if len(text) >= 2 and text[0] == text[-1] == '"' else text


def _blocks(parsed: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    """`variable "x" {...}` blocks of one kind, by unquoted label."""
    found: dict[str, dict[str, Any]] = {}
    for entry in parsed.get(kind, []):
        for label, body in entry.items():
            found[unquote(label)] = {
                key: value for key, value in body.items() if not key.startswith("__")
            }
    return found


@dataclass
class TerraformDir:
    """One Terraform module folder (a reusable module or an environment root)."""

    path: Path
    variables: dict[str, dict[str, Any]] = field(default_factory=dict)
    outputs: dict[str, dict[str, Any]] = field(default_factory=dict)
    modules: dict[str, dict[str, Any]] = field(default_factory=dict)
    resources: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    locals: dict[str, Any] = field(default_factory=dict)
    code: str = ""  # every file's text without comment lines, for reference scans

    def module_dir(self, call: str) -> Path:
        """The folder a module call's `source` points at."""
        return (self.path / unquote(str(self.modules[call]["source"]))).resolve()


def load_terraform_dir(path: Path) -> TerraformDir:
    """Parse every `.tf` file of a folder (a parse error raises)."""
    folder = TerraformDir(path.resolve())
    for file in sorted(path.glob("*.tf")):
        text = file.read_text(encoding="utf-8")
        with file.open(encoding="utf-8") as handle:
            parsed = hcl2.load(handle)
        folder.variables.update(_blocks(parsed, "variable"))
        folder.outputs.update(_blocks(parsed, "output"))
        folder.modules.update(_blocks(parsed, "module"))
        for entry in parsed.get("resource", []):
            for kind, named in entry.items():
                folder.resources.setdefault(unquote(kind), {}).update(_blocks({"r": [named]}, "r"))
        for entry in parsed.get("locals", []):
            folder.locals.update({k: v for k, v in entry.items() if not k.startswith("__")})
        lines = [ln for ln in text.splitlines() if not ln.lstrip().startswith("#")]
        folder.code += "\n".join(lines) + "\n"
    return folder


def terraform_dirs(root: Path) -> list[Path]:
    """Every folder under `root` holding `.tf` files."""
    return sorted({file.parent for file in root.rglob("*.tf")})


def wiring_problems(root: Path) -> list[str]:
    """What `terraform validate` would refuse in how the folders call each other."""
    folders = {path: load_terraform_dir(path) for path in terraform_dirs(root)}
    problems: list[str] = []
    for path, folder in folders.items():
        where = path.relative_to(root)
        for name in sorted(set(REFERENCE["var"].findall(folder.code))):
            if name not in folder.variables:
                problems.append(f"{where}: var.{name} is not declared")
        for call, args in folder.modules.items():
            target = folders.get(folder.module_dir(call))
            if target is None:
                problems.append(f"{where}: module.{call} source is not a local module")
                continue
            given = set(args) - META_ARGUMENTS
            required = {n for n, v in target.variables.items() if "default" not in v}
            for name in sorted(given - set(target.variables)):
                problems.append(f"{where}: module.{call} passes unknown {name}")
            for name in sorted(required - given):
                problems.append(f"{where}: module.{call} misses required {name}")
        for call, output in sorted(set(REFERENCE["module"].findall(folder.code))):
            if call not in folder.modules:
                problems.append(f"{where}: module.{call} is not called here")
                continue
            target = folders.get(folder.module_dir(call))
            if target is not None and output not in target.outputs:
                problems.append(f"{where}: module.{call} has no output {output}")
    return problems


def terraform_binary() -> str | None:
    """The `terraform` command, when this machine has one."""
    return shutil.which("terraform")


# --- checkov ----------------------------------------------------------------------------


def _requirements_digest() -> str:
    return hashlib.sha256(CHECKOV_REQUIREMENTS.read_bytes()).hexdigest()


def checkov_executable() -> Path:
    """The checkov executable from its own cached virtualenv, rebuilt when its requirements change.

    Test workers running side by side build it once: the first holds a lock, the rest wait.
    """
    CHECKOV_VENV.parent.mkdir(parents=True, exist_ok=True)
    with open(CHECKOV_VENV.parent / "checkov.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        return _built_checkov()


def _built_checkov() -> Path:
    marker = CHECKOV_VENV / "requirements.sha256"
    executable = CHECKOV_VENV / VENV_BIN / "checkov"
    digest = _requirements_digest()
    if executable.exists() and marker.exists() and marker.read_text() == digest:
        return executable
    shutil.rmtree(CHECKOV_VENV, ignore_errors=True)
    # uv installs checkov's hundred-odd packages in seconds where pip takes minutes.
    made = run(
        [tool("uv"), "venv", "--quiet", "--python", sys.executable, str(CHECKOV_VENV)], TEMPLATE_DIR
    )
    assert made.ok, made.tail()
    python = str(CHECKOV_VENV / VENV_BIN / "python")
    installed = run(
        [
            tool("uv"),
            "pip",
            "install",
            "--quiet",
            "--python",
            python,
            "-r",
            str(CHECKOV_REQUIREMENTS),
        ],
        TEMPLATE_DIR,
        env=clean_env(),
        timeout=900,
    )
    assert installed.ok, installed.tail()
    assert executable.exists(), installed.tail()
    marker.write_text(digest)
    return executable


@dataclass
class CheckovReport:
    """What one checkov scan found, with each skip's stated reason."""

    passed: int
    failed: list[str]
    skipped: list[str]
    parsing_errors: list[str]

    def summary(self) -> str:
        return f"{self.passed} passed, {len(self.failed)} failed, {len(self.skipped)} skipped"


def run_checkov(checkov: Path, directory: Path, framework: str) -> CheckovReport:
    """Scan a folder offline and read checkov's JSON report."""
    completed = subprocess.run(
        [
            str(checkov),
            "--directory",
            str(directory),
            "--framework",
            framework,
            "--output",
            "json",
            "--skip-download",
            "--compact",
        ],
        capture_output=True,
        text=True,
        env=clean_env(**CHECKOV_ENV),
        stdin=subprocess.DEVNULL,
        timeout=600,
        check=False,
    )
    assert completed.returncode in (0, 1), completed.stderr[-3000:]
    data = json.loads(completed.stdout)
    reports = data if isinstance(data, list) else [data]
    report = CheckovReport(0, [], [], [])
    for scan in reports:
        results = scan.get("results", {})
        report.passed += len(results.get("passed_checks", []))
        report.failed += [
            f"{c['check_id']} {c['resource']} ({c['file_path']})"
            for c in results.get("failed_checks", [])
        ]
        report.skipped += [
            f"{c['check_id']} {c['resource']}: {c['check_result'].get('suppress_comment', '')}"
            for c in results.get("skipped_checks", [])
        ]
        report.parsing_errors += results.get("parsing_errors", [])
    return report


# --- kustomize --------------------------------------------------------------------------

KUSTOMIZE_VERSION = re.compile(r"v?(\d+)\.(\d+)")


def kustomize_version(kubectl: str) -> tuple[int, int] | None:
    """The kustomize built into `kubectl`, as (major, minor)."""
    outcome = run([kubectl, "version", "--client", "--output=json"], TEMPLATE_DIR)
    if not outcome.ok:
        return None
    start = outcome.output.find("{")
    info = json.loads(outcome.output[start:]) if start >= 0 else {}
    match = KUSTOMIZE_VERSION.match(str(info.get("kustomizeVersion", "")))
    return (int(match.group(1)), int(match.group(2))) if match else None
