"""Create events and checks shared by the integration tests."""

from __future__ import annotations

import time
from collections import Counter

import requests

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


def with_limits(
    create_room: Invoker,
    per_viewer: int,
    per_day: int,
    per_prefix: int = 1000,
    window: int = 600,
    now: float | None = None,
    **settings,
) -> Invoker:
    """A create-room container with these limits and its clock stopped at `now` (this moment by
    default): every create it makes counts in the same window and the same day, however long
    the test takes."""
    stopped = time.time() if now is None else now
    return create_room.new(
        viewer_limit=per_viewer,
        daily_cap=per_day,
        prefix_limit=per_prefix,
        viewer_window=window,
        clock=lambda: stopped,
        **settings,
    )


def state_items(stack: LocalStack) -> Counter:
    """The state table's items by kind: "viewer", "prefix" and "day" count their hits, "key"
    (Idempotency-Key markers) their number."""
    kinds: Counter = Counter()
    for item in stack.client("dynamodb").scan(TableName=STATE_TABLE)["Items"]:
        kind = item["id"]["S"].split("#")[0]
        kinds[kind] += int(item["hits"]["N"]) if "hits" in item else 1
    return kinds
