"""Create events, the error-mapping table and checks shared by the create tests."""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

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


@dataclass(frozen=True)
class Scenario:
    name: str
    status: int
    error: str
    body: str | None = "{}"
    daily_fault: dict[str, Any] | None = None
    configured: bool = True
    headers: dict[str, str] = field(default_factory=dict)
    max_rooms: int = 0  # a slow Daily may still create the room the caller gave up on


SCENARIOS = [
    Scenario("invalid JSON body", 400, "invalid_request", body="{not json"),
    Scenario("body not an object", 400, "invalid_request", body="[1, 2]"),
    Scenario("body nested 2,048 deep", 400, "invalid_request", body="[" * 2048),
    Scenario("unknown field", 400, "invalid_request", body='{"name": "mine"}'),
    Scenario("ttl too long", 400, "invalid_request", body='{"ttl_seconds": 999999}'),
    Scenario("ttl not a number", 400, "invalid_request", body='{"ttl_seconds": "600"}'),
    Scenario("ttl is a boolean", 400, "invalid_request", body='{"ttl_seconds": true}'),
    Scenario("secret empty", 503, "not_configured", configured=False),
    Scenario("Daily 401", 502, "upstream_auth", daily_fault={"status": 401}),
    Scenario("Daily 403", 502, "upstream_auth", daily_fault={"status": 403}),
    Scenario(
        "Daily 429 with Retry-After",
        503,
        "upstream_busy",
        daily_fault={"status": 429, "headers": {"Retry-After": "7"}},
        headers={"Retry-After": "7"},
    ),
    Scenario(
        "Daily 429 without Retry-After",
        503,
        "upstream_busy",
        daily_fault={"status": 429},
        headers={"Retry-After": "2"},
    ),
    Scenario("Daily 400", 502, "upstream_rejected", daily_fault={"status": 400}),
    Scenario("Daily 500", 502, "upstream_error", daily_fault={"status": 500}),
    Scenario("Daily 502", 502, "upstream_error", daily_fault={"status": 502}),
    Scenario("Daily 503", 502, "upstream_error", daily_fault={"status": 503}),
    Scenario("Daily malformed body", 502, "upstream_error", daily_fault={"malformed": True}),
    Scenario("Daily drops the connection", 502, "upstream_error", daily_fault={"drop": True}),
    Scenario("Daily times out", 504, "upstream_timeout", daily_fault={"delay": 1.5}, max_rooms=1),
]
