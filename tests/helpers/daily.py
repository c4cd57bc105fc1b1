"""Helpers for the emulator's tests: a fake clock, an HTTP client, error checks, JWTs, examples."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any

import requests

from localdev.daily_emulator import DailyEmulator
from localdev.daily_reference import Property

KEY = "test-key"
START = 1_700_000_000.0


class FakeClock:
    """A clock that only moves when a test advances it."""

    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class Client:
    """Small requests wrapper that sends the right key by default."""

    def __init__(self, daily: DailyEmulator) -> None:
        self.base = daily.base_url

    def __call__(
        self, method: str, path: str, key: str | None = KEY, timeout: float = 5, **kwargs
    ) -> requests.Response:
        headers = kwargs.pop("headers", {})
        if key is not None:
            headers.setdefault("Authorization", f"Bearer {key}")
        url = self.base + path
        return requests.request(method, url, headers=headers, timeout=timeout, **kwargs)

    def control(self, method: str, route: str, **kwargs) -> requests.Response:
        root = self.base.removesuffix("/v1")
        return requests.request(method, f"{root}/__emulator/{route}", timeout=5, **kwargs)


def assert_error(response: requests.Response, status: int, error: str, info: str = "") -> dict:
    """Daily's error body with this status and `error`, whose `info` contains `info`."""
    assert response.status_code == status
    assert response.headers["Content-Type"] == "application/json"
    body = response.json()
    assert body["error"] == error
    assert info in body["info"]
    return body


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def decode_segment(segment: str) -> dict:
    return json.loads(base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)))


def sign(claims: dict, key: str = KEY) -> str:
    """A self-signed token, as Daily's guide builds one (HS256 with the API key)."""
    header = {"alg": "HS256", "typ": "JWT"}
    signing_input = ".".join(b64url(json.dumps(part).encode()) for part in (header, claims))
    mac = hmac.new(key.encode(), signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{b64url(mac)}"


def example_of(prop: Property, now: float) -> Any:
    """A valid value for `prop` that is not its default (timestamps an hour after `now`)."""
    if prop.example is not None:
        return prop.example
    if prop.kind == "timestamp":
        return now + 3600.5
    assert prop.kind == "boolean", f"{prop.name} needs an example in the list"
    return not prop.default if prop.has_default else True


def wrong_value_of(prop: Property) -> Any:
    """A JSON value of another kind, which Daily refuses."""
    others = {"string": 5, "object": ["x"], "array": {"x": 1}, "boolean": "true"}
    return others.get(prop.kind, "1700000000")
