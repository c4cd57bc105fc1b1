"""cfn-lint has nothing to say about template.yaml: no error, no warning."""

from __future__ import annotations

from pathlib import Path

from cfnlint.api import lint, lint_file

from tests.template.conftest import TEMPLATE


def test_cfn_lint_finds_nothing() -> None:
    matches = lint_file(Path(TEMPLATE))

    assert [str(match) for match in matches] == []


def test_cfn_lint_does_report_warnings() -> None:
    """The check above can fail: a deprecated runtime is a warning (W2531)."""
    broken = Path(TEMPLATE).read_text().replace("Runtime: python3.13", "Runtime: python3.8", 1)

    rules = {match.rule.id for match in lint(broken)}

    assert "W2531" in rules
