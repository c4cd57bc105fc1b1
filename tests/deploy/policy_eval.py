"""A small IAM policy evaluator for the project's own policies: is a request allowed?

As in IAM, a request is allowed when an Allow statement matches it and no Deny statement does.
It knows the condition operators those policies use and fails loudly on any other, so a new
operator cannot be silently read as "always true". A condition on a key the request does not
carry is false, except for the negated operators (StringNotEquals, StringNotLike), `...IfExists`
and `Null`, which IAM defines for that case. `*` and `?` are the only wildcards.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import cache
from typing import Any


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


@cache
def compiled(pattern: str, case_sensitive: bool) -> re.Pattern[str]:
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.compile(regex, (0 if case_sensitive else re.IGNORECASE) | re.DOTALL)


def wildcard(pattern: str, value: str, *, case_sensitive: bool = True) -> bool:
    """IAM's `*` (any run of characters) and `?` (one character)."""
    return compiled(pattern, case_sensitive).fullmatch(value) is not None


def arn_like(value: str, pattern: str) -> bool:
    """ArnLike/ArnEquals: each of the six colon-separated parts matched on its own."""
    values, patterns = value.split(":", 5), pattern.split(":", 5)
    return len(values) == len(patterns) == 6 and all(
        wildcard(p, v) for p, v in zip(patterns, values, strict=True)
    )


# operator -> (negated, how one value matches one expected value)
OPERATORS: dict[str, tuple[bool, Callable[[str, str], bool]]] = {
    "StringEquals": (False, lambda value, expected: value == expected),
    "StringNotEquals": (True, lambda value, expected: value == expected),
    "StringLike": (False, wildcard),
    "StringNotLike": (True, wildcard),
    "ArnEquals": (False, arn_like),
    "ArnLike": (False, arn_like),
}


def key_holds(operator: str, value: str | None, expected: Any) -> bool:
    """One key of one condition operator, as IAM evaluates it."""
    if operator == "Null":
        return (value is None) == (str(expected).lower() == "true")
    base, if_exists = operator.removesuffix("IfExists"), operator.endswith("IfExists")
    if base not in OPERATORS:
        raise NotImplementedError(f"the evaluator does not know {operator}")
    negated, matches = OPERATORS[base]
    if value is None:
        return if_exists or negated
    matched = any(matches(value, e) for e in as_list(expected))
    return matched != negated


def condition_holds(condition: dict[str, Any], context: dict[str, str]) -> bool:
    return all(
        key_holds(operator, context.get(key), expected)
        for operator, tests in condition.items()
        for key, expected in tests.items()
    )


def matches(statement: dict[str, Any], action: str, resource: str, context: dict[str, str]) -> bool:
    """Whether one statement (Allow or Deny) applies to this request."""
    unknown = set(statement) - {"Sid", "Effect", "Action", "Resource", "Condition"}
    if unknown:
        raise NotImplementedError(f"the evaluator does not know {sorted(unknown)}")
    return (
        any(wildcard(a, action, case_sensitive=False) for a in as_list(statement["Action"]))
        and any(wildcard(r, resource) for r in as_list(statement["Resource"]))
        and condition_holds(statement.get("Condition", {}), context)
    )


def allows(
    policy: dict[str, Any], action: str, resource: str, context: dict[str, str] | None = None
) -> bool:
    """Whether `policy` allows `action` on `resource` in this request: an Allow statement
    matches and no Deny statement does."""
    applying = [s for s in policy["Statement"] if matches(s, action, resource, context or {})]
    effects = {statement["Effect"] for statement in applying}
    return "Allow" in effects and "Deny" not in effects


def trusts(
    policy: dict[str, Any], principal: dict[str, str], action: str, context: dict[str, str]
) -> bool:
    """Whether a trust policy lets `principal` ({"AWS": arn} or {"Federated": arn}) assume the
    role with `action` (sts:AssumeRole, sts:AssumeRoleWithWebIdentity) in this request."""
    for statement in policy["Statement"]:
        unknown = set(statement) - {"Sid", "Effect", "Principal", "Action", "Condition"}
        if unknown or statement["Effect"] != "Allow":
            raise NotImplementedError(f"the evaluator does not know {statement}")
        named = {kind: as_list(value) for kind, value in statement["Principal"].items()}
        if (
            any(principal.get(kind) in arns for kind, arns in named.items())
            and action in as_list(statement["Action"])
            and condition_holds(statement.get("Condition", {}), context)
        ):
            return True
    return False
