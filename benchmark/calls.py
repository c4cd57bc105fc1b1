"""The external calls of a create by kind, and the issue's targets for them."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

SERVICES = {"dynamodb": "DynamoDB", "secrets-manager": "Secrets Manager"}
NAMED = re.compile(r"/(rooms|meeting-tokens)/[^/]+")
PLACEHOLDER = {"rooms": ":name", "meeting-tokens": ":token"}
WARM_TARGET = "2: 1 DynamoDB, 1 POST /rooms"
COLD_MAX = 4


def aws_kind(call: str) -> str:
    """`dynamodb PutItem` (service and operation of a before-send event) -> `DynamoDB PutItem`."""
    service, _, operation = call.partition(" ")
    return f"{SERVICES.get(service, service)} {operation}"


def daily_kind(method: str, path: str, prefix: str = "/v1") -> str:
    """`POST /v1/rooms` -> `Daily POST /rooms`; a room or token in the path becomes a name."""
    path = urlsplit(path).path.removeprefix(prefix) or "/"
    path = NAMED.sub(lambda match: f"/{match[1]}/{PLACEHOLDER[match[1]]}", path)
    return f"Daily {method} {path}"


@dataclass
class Calls:
    """The calls of one create, counted by kind."""

    kinds: Counter[str] = field(default_factory=Counter)

    @classmethod
    def of(cls, aws: Iterable[str], daily: Iterable[tuple[str, str]]) -> Calls:
        kinds = Counter(aws_kind(call) for call in aws)
        kinds.update(daily_kind(method, path) for method, path in daily)
        return cls(kinds)

    def count(self, prefix: str) -> int:
        return sum(n for kind, n in self.kinds.items() if kind.startswith(prefix))

    @property
    def total(self) -> int:
        return sum(self.kinds.values())

    @property
    def summary(self) -> str:
        daily, tokens = self.count("Daily"), self.count("Daily POST /meeting-tokens")
        secrets, dynamodb = self.count("Secrets Manager"), self.count("DynamoDB")
        return f"{self.total}: {dynamodb} DynamoDB, {daily} Daily, {secrets} secret, {tokens} token"

    def text(self) -> str:
        return ", ".join(f"{kind} x{n}" for kind, n in sorted(self.kinds.items())) or "none"


def warm_ok(calls: Calls) -> bool:
    """Exactly one DynamoDB request and one Daily POST /rooms, nothing else."""
    return (
        calls.total == 2 and calls.count("DynamoDB") == 1 and calls.kinds["Daily POST /rooms"] == 1
    )


def cold_ok(calls: Calls) -> bool:
    return calls.total <= COLD_MAX
