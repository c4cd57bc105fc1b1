"""A small IAM policy evaluator for the project's own policies: does an Allow statement match?

It knows the condition operators those policies use and fails loudly on any other, so a new
operator cannot be silently read as "always true". As in IAM, a condition on a key the request
does not carry is false (these operators have no ...IfExists form here), and `*` and `?` are
the only wildcards.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def wildcard(pattern: str, value: str, *, case_sensitive: bool = True) -> bool:
    """IAM's `*` (any run of characters) and `?` (one character)."""
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    flags = 0 if case_sensitive else re.IGNORECASE
    return re.fullmatch(regex, value, flags | re.DOTALL) is not None


def arn_like(value: str, pattern: str) -> bool:
    """ArnLike/ArnEquals: each of the six colon-separated parts matched on its own."""
    values, patterns = value.split(":", 5), pattern.split(":", 5)
    return len(values) == len(patterns) == 6 and all(
        wildcard(p, v) for p, v in zip(patterns, values, strict=True)
    )


OPERATORS: dict[str, Callable[[str, str], bool]] = {
    "StringEquals": lambda value, expected: value == expected,
    "StringLike": wildcard,
    "ArnEquals": arn_like,
    "ArnLike": arn_like,
}


def condition_holds(condition: dict[str, Any], context: dict[str, str]) -> bool:
    for operator, tests in condition.items():
        if operator not in OPERATORS:
            raise NotImplementedError(f"the evaluator does not know {operator}")
        for key, expected in tests.items():
            value = context.get(key)
            if value is None or not any(OPERATORS[operator](value, e) for e in as_list(expected)):
                return False
    return True


def allows(
    policy: dict[str, Any], action: str, resource: str, context: dict[str, str] | None = None
) -> bool:
    """Whether an Allow statement of `policy` grants `action` on `resource` in this request."""
    return any(
        statement["Effect"] == "Allow"
        and any(wildcard(a, action, case_sensitive=False) for a in as_list(statement["Action"]))
        and any(wildcard(r, resource) for r in as_list(statement["Resource"]))
        and condition_holds(statement.get("Condition", {}), context or {})
        for statement in policy["Statement"]
    )


def with_account(policy: dict[str, Any], account: str) -> dict[str, Any]:
    """The policy as it is installed: ACCOUNT_ID replaced."""
    return json.loads(json.dumps(policy).replace("ACCOUNT_ID", account))
