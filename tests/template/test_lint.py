"""The template stays tidy: each resource says what it is, each checkov skip says why."""

from __future__ import annotations

import re
from typing import Any

from tests.template.conftest import TEMPLATE


def resource_headers(text: str) -> dict[str, str]:
    """Each resource's logical id and the line just above it."""
    lines = text.split("\n")
    start, end = lines.index("Resources:"), lines.index("Outputs:")
    headers = {}
    for number in range(start + 1, end):
        found = re.fullmatch(r"  ([A-Za-z0-9]+):", lines[number])
        if found:
            headers[found.group(1)] = lines[number - 1]
    return headers


def test_each_resource_opens_with_one_comment_line(raw_template: dict[str, Any]) -> None:
    headers = resource_headers(TEMPLATE.read_text())

    assert set(headers) == set(raw_template["Resources"])
    for name, line in headers.items():
        assert re.fullmatch(r"  # \S.{10,}", line), f"{name} opens with {line!r}"
        assert not line.startswith("  # ----"), f"{name} opens with a section title only"


def test_every_checkov_skip_says_why_in_one_short_line(raw_template: dict[str, Any]) -> None:
    skips = [
        (name, skip)
        for name, resource in raw_template["Resources"].items()
        for skip in resource.get("Metadata", {}).get("checkov", {}).get("skip", [])
    ]

    assert skips
    for name, skip in skips:
        assert re.fullmatch(r"CKV2?_AWS_\d+", skip["id"]), name
        comment = skip.get("comment", "")
        assert 20 <= len(comment) <= 100, f"{name} {skip['id']}: {comment!r}"
        assert "\n" not in comment, f"{name} {skip['id']}: {comment!r}"
