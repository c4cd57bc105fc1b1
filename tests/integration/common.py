"""Create events and checks shared by the integration tests."""

from __future__ import annotations

from collections import Counter

import pytest
import requests

from daily_rooms.quota import Limits
from localdev.local_stack import STATE_TABLE, LocalStack
from tests.helpers import Invoker, load_event


def create_event(body: str | None = None, **headers: str) -> dict:
    """The page's own request (JSON, same origin), with `headers` added or replaced."""
    event = load_event("create_room/create_no_body.json")
    event["headers"] = {**event["headers"], **headers}
    if body is not None:
        event["body"] = body
    return event


def keyed(key: str, body: str | None = None) -> dict:
    return create_event(body, **{"idempotency-key": key})


def verified_claims(stack: LocalStack, token: str) -> dict:
    """The token's properties as Daily answers them at `GET /meeting-tokens/:token`, which
    checks the signature with the key, the domain (`d`) and the expiry."""
    assert stack.daily is not None
    response = requests.get(
        f"{stack.daily.base_url}/meeting-tokens/{token}",
        headers={"Authorization": f"Bearer {stack.api_key}"},
        timeout=5,
    )
    assert response.status_code == 200, response.text
    return response.json()


def set_limits(
    invoker: Invoker,
    monkeypatch: pytest.MonkeyPatch,
    per_viewer: int,
    per_day: int,
    per_prefix: int = 1000,
    window: int = 600,
) -> None:
    """Set the create function's limits for one test."""
    quota = invoker.module.creator.quota
    monkeypatch.setattr(quota, "limits", Limits(per_viewer, per_prefix, window, per_day))


def state_items(stack: LocalStack) -> Counter:
    """The state table's items by kind: "viewer", "prefix" and "day" count their hits, "key"
    (Idempotency-Key markers) their number."""
    kinds: Counter = Counter()
    for item in stack.client("dynamodb").scan(TableName=STATE_TABLE)["Items"]:
        kind = item["id"]["S"].split("#")[0]
        kinds[kind] += int(item["hits"]["N"]) if "hits" in item else 1
    return kinds
