"""The error-mapping table: one row per way a create can fail, shared by several tests."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


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
