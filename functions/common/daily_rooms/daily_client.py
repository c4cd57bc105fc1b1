"""A small client for the Daily REST API: one `requests.Session` per container, errors mapped,
and retries with full-jitter backoff inside a per-request deadline."""

from __future__ import annotations

import random
import time
from dataclasses import dataclass
from typing import Any

import requests
from aws_lambda_powertools import Logger

from daily_rooms.errors import (
    ApiError,
    UpstreamAuth,
    UpstreamBusy,
    UpstreamError,
    UpstreamRejected,
    UpstreamTimeout,
)

logger = Logger(child=True)

DEFAULT_RETRY_AFTER = 2
RETRYABLE_STATUSES = {429, 500, 502, 503, 504}


class Deadline:
    """The time left for all of one request's calls to Daily."""

    def __init__(self, seconds: float):
        self.ends = time.monotonic() + max(0.0, seconds)

    def remaining(self) -> float:
        return max(0.0, self.ends - time.monotonic())


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff with full jitter: sleep U(0, min(cap, base * 2**attempt))."""

    attempts: int = 4
    base: float = 0.2
    cap: float = 2.0

    def backoff(self, attempt: int) -> float:
        return random.uniform(0, min(self.cap, self.base * 2**attempt))  # noqa: S311 (not crypto)


def _retry_after(response: requests.Response) -> int | None:
    raw = response.headers.get("Retry-After", "").strip()
    return max(0, int(raw)) if raw.isdigit() else None


def _json_object(response: requests.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def error_for(response: requests.Response) -> ApiError:
    """Map a non-2xx Daily answer to the API error the caller sees; log Daily's detail."""
    detail = _json_object(response)
    log = {"daily_status": response.status_code, "daily_error": detail.get("error")}
    status = response.status_code
    if status in (401, 403):
        logger.error("Daily rejected the API key", extra=log)
        return UpstreamAuth()
    if status == 429:
        logger.warning("Daily rate limit reached", extra=log)
        return UpstreamBusy(_retry_after(response) or DEFAULT_RETRY_AFTER)
    if status == 400:
        logger.error("Daily rejected the request", extra={**log, "daily_info": detail.get("info")})
        return UpstreamRejected()
    logger.error("Daily answered with an error", extra=log)
    return UpstreamError()


def _checked(response: requests.Response, path: str) -> dict[str, Any]:
    """The JSON object of a 2xx answer; anything else raises the mapped ApiError."""
    if not response.ok:
        raise error_for(response)
    body = _json_object(response)
    if not body:
        logger.error("Daily answered with a non-object body", extra={"path": path})
        raise UpstreamError()
    return body


class DailyClient:
    """Calls Daily with a reused session, explicit timeouts and bounded retries."""

    def __init__(
        self,
        base_url: str,
        connect_timeout: float,
        read_timeout: float,
        retry: RetryPolicy | None = None,
    ):
        self.base_url = base_url.rstrip("/")
        self.timeout = (connect_timeout, read_timeout)
        self.retry = retry or RetryPolicy()
        self.session = requests.Session()
        self.session.headers.update({"Accept": "application/json"})

    def request(
        self, method: str, path: str, api_key: str, deadline: Deadline, payload: dict | None = None
    ) -> requests.Response:
        """Send one call, retrying 429, 5xx, timeouts and dropped connections while time is left.

        Returns the final response (2xx or a non-retryable error) or raises the mapped ApiError.
        """
        for attempt in range(self.retry.attempts):
            left = deadline.remaining()
            failure: ApiError
            wait = self.retry.backoff(attempt)
            try:
                response = self.session.request(
                    method,
                    f"{self.base_url}{path}",
                    json=payload,
                    headers={"Authorization": f"Bearer {api_key}"},
                    timeout=(min(self.timeout[0], left), min(self.timeout[1], left)),
                )
            except requests.Timeout:
                logger.warning("Daily timed out", extra={"path": path, "attempt": attempt})
                failure = UpstreamTimeout()
            except requests.RequestException as exc:
                reason = type(exc).__name__
                logger.warning("Daily unreachable", extra={"path": path, "reason": reason})
                failure = UpstreamError()
            else:
                if response.status_code not in RETRYABLE_STATUSES:
                    return response
                failure = error_for(response)
                wait = max(wait, _retry_after(response) or 0)
            if attempt + 1 == self.retry.attempts or wait >= deadline.remaining() - 0.05:
                raise failure
            time.sleep(wait)
        raise AssertionError("unreachable: the loop always returns or raises")

    def call(
        self, method: str, path: str, api_key: str, deadline: Deadline, payload: dict | None = None
    ) -> dict[str, Any]:
        """Like `request`, but any non-2xx answer raises and the body must be a JSON object."""
        return _checked(self.request(method, path, api_key, deadline, payload), path)

    def create_room(
        self, api_key: str, name: str, properties: dict[str, Any], deadline: Deadline
    ) -> dict[str, Any]:
        """Create the room, or return it if an earlier attempt already did (names are ours)."""
        payload = {"name": name, "properties": properties}
        response = self.request("POST", "/rooms", api_key, deadline, payload)
        if response.status_code == 400 and "already exists" in str(_json_object(response)):
            logger.info("Room already created by an earlier attempt", extra={"room": name})
            return self.call("GET", f"/rooms/{name}", api_key, deadline)
        return _checked(response, "/rooms")

    def owner_token(self, api_key: str, room: str, exp: int, deadline: Deadline) -> str:
        """A meeting token that makes its holder owner of this room only, until `exp`."""
        properties = {"room_name": room, "is_owner": True, "exp": exp}
        body = self.call("POST", "/meeting-tokens", api_key, deadline, {"properties": properties})
        token = body.get("token")
        if not isinstance(token, str) or not token:
            raise UpstreamError()
        return token
