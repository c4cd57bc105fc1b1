"""A small client for the Daily REST API: one `requests.Session` per container, errors mapped,
and bounded retries with full-jitter backoff inside the request's deadline.

One create makes at most MAX_CALLS calls to Daily (Daily allows 20 requests per second per key),
so at most 3 attempts of `POST /rooms`: one call is kept for `GET /rooms/:name`.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from typing import Any

import requests

from daily_rooms.deadline import Backoff, Deadline, DeadlineSpent
from daily_rooms.errors import (
    ApiError,
    UpstreamAuth,
    UpstreamBusy,
    UpstreamError,
    UpstreamRejected,
    UpstreamTimeout,
)
from daily_rooms.stored_secrets import DailyKey
from daily_rooms.telemetry import logger

MAX_CALLS = 4
DEFAULT_RETRY_AFTER = 2
RETRYABLE_STATUSES = {429, 500, 502, 503, 504}
DOMAIN_NAME = re.compile(r"[A-Za-z0-9-]{1,63}")


@dataclass(frozen=True)
class Domain:
    """The Daily domain a key belongs to (`GET /v1/`): rooms' host name and tokens' `d` claim."""

    id: str
    name: str


class Budget:
    """What one create may still spend at Daily: calls and time."""

    def __init__(self, deadline: Deadline, calls: int = MAX_CALLS):
        self.deadline = deadline
        self.calls = calls


def _retry_after(response: requests.Response) -> int | None:
    raw = response.headers.get("Retry-After", "").strip()
    return max(0, int(raw)) if raw.isascii() and raw.isdigit() else None


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


def _already_exists(response: requests.Response) -> bool:
    return response.status_code == 400 and "already exists" in str(_json_object(response))


class DailyClient:
    """Calls Daily with a reused session, explicit timeouts and bounded retries."""

    def __init__(
        self,
        session: requests.Session,
        base_url: str,
        connect_timeout: float,
        read_timeout: float,
        backoff: Backoff | None = None,
    ):
        self.session = session
        self.session.headers.update({"Accept": "application/json"})
        self.base_url = base_url.rstrip("/")
        self.timeout = (connect_timeout, read_timeout)
        self.backoff = backoff or Backoff(base=0.2, cap=2.0)
        self._domain: tuple[str, Domain] | None = None

    def _send(
        self, method: str, path: str, api_key: str, budget: Budget, payload: dict | None
    ) -> requests.Response:
        """One call, with timeouts from what is left of the deadline (never zero)."""
        if budget.calls <= 0:
            logger.error("No Daily call left for this create", extra={"path": path})
            raise UpstreamError()
        try:
            read = budget.deadline.timeout(self.timeout[1])
        except DeadlineSpent:
            raise UpstreamTimeout() from None
        budget.calls -= 1
        try:
            return self.session.request(
                method,
                f"{self.base_url}{path}",
                json=payload,
                headers={"Authorization": f"Bearer {api_key}"},
                timeout=(min(self.timeout[0], read), read),
            )
        except requests.Timeout:
            logger.warning("Daily timed out", extra={"path": path})
            raise UpstreamTimeout() from None
        except requests.RequestException as exc:
            logger.warning("Daily unreachable", extra={"path": path, "reason": type(exc).__name__})
            raise UpstreamError() from None

    def request(
        self,
        method: str,
        path: str,
        api_key: str,
        budget: Budget,
        payload: dict | None = None,
        attempts: int = 1,
    ) -> requests.Response:
        """Send a call, retrying 429, 5xx, timeouts and dropped connections while the budget
        allows. Returns the final response (2xx or not retryable) or raises the mapped ApiError.
        """
        attempt = 0
        while True:
            try:
                response = self._send(method, path, api_key, budget, payload)
            except (UpstreamTimeout, UpstreamError) as error:
                failure, wait = error, self.backoff.wait(attempt)
            else:
                if response.status_code not in RETRYABLE_STATUSES:
                    return response
                failure = error_for(response)
                wait = max(self.backoff.wait(attempt), _retry_after(response) or 0)
            attempt += 1
            if attempt >= attempts or not budget.calls or not budget.deadline.allows_wait(wait):
                raise failure
            time.sleep(wait)

    def call(
        self, method: str, path: str, api_key: str, budget: Budget, payload: dict | None = None
    ) -> dict[str, Any]:
        """One call whose answer must be 2xx with a JSON object; anything else raises."""
        return _checked(self.request(method, path, api_key, budget, payload), path)

    def domain(self, key: DailyKey, budget: Budget) -> Domain:
        """The key's domain: from the secret when stored there, else `GET /v1/` once per key."""
        if key.domain_id and key.domain_name:
            return Domain(key.domain_id, key.domain_name)
        if self._domain is None or self._domain[0] != key.api_key:
            config = self.call("GET", "/", key.api_key, budget)
            domain_id, name = config.get("domain_id"), config.get("domain_name")
            usable = isinstance(domain_id, str) and domain_id and isinstance(name, str)
            if not usable or not DOMAIN_NAME.fullmatch(name):
                logger.error("Daily answered an unusable domain configuration")
                raise UpstreamError()
            self._domain = (key.api_key, Domain(domain_id, name))
        return self._domain[1]

    def create_room(
        self, api_key: str, name: str, properties: dict[str, Any], budget: Budget
    ) -> dict[str, Any]:
        """Create the room, or get it if an earlier attempt already did (names are ours).

        Retried POSTs leave one call of the budget for that `GET /rooms/:name`.
        """
        payload = {"name": name, "properties": properties}
        attempts = max(1, budget.calls - 1)
        response = self.request("POST", "/rooms", api_key, budget, payload, attempts)
        if _already_exists(response) and budget.calls:
            logger.info("Room already created by an earlier attempt", extra={"room": name})
            return self.call("GET", f"/rooms/{name}", api_key, budget)
        return _checked(response, "/rooms")
