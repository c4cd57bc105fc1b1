"""A small client for the Daily REST API: one `requests.Session` per container, errors mapped."""

from __future__ import annotations

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


def _retry_after(response: requests.Response) -> int:
    raw = response.headers.get("Retry-After", "")
    return max(1, int(raw)) if raw.isdigit() else DEFAULT_RETRY_AFTER


def _daily_error(response: requests.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def error_for(response: requests.Response) -> ApiError:
    """Map a non-2xx Daily answer to the API error the caller sees; log Daily's detail."""
    detail = _daily_error(response)
    log = {"daily_status": response.status_code, "daily_error": detail.get("error")}
    status = response.status_code
    if status in (401, 403):
        logger.error("Daily rejected the API key", extra=log)
        return UpstreamAuth()
    if status == 429:
        logger.warning("Daily rate limit reached", extra=log)
        return UpstreamBusy(_retry_after(response))
    if status == 400:
        logger.error("Daily rejected the request", extra={**log, "daily_info": detail.get("info")})
        return UpstreamRejected()
    logger.error("Daily answered with an error", extra=log)
    return UpstreamError()


class DailyClient:
    """Calls Daily with a reused session and explicit connect/read timeouts."""

    def __init__(self, base_url: str, connect_timeout: float, read_timeout: float):
        self.base_url = base_url.rstrip("/")
        self.timeout = (connect_timeout, read_timeout)
        self.session = requests.Session()
        self.session.headers.update({"Accept": "application/json"})

    def post(self, path: str, api_key: str, payload: dict[str, Any]) -> dict[str, Any]:
        """POST JSON to Daily and return its JSON object, or raise the mapped ApiError."""
        try:
            response = self.session.post(
                f"{self.base_url}{path}",
                json=payload,
                headers={"Authorization": f"Bearer {api_key}"},
                timeout=self.timeout,
            )
        except requests.Timeout:
            logger.error("Daily timed out", extra={"path": path})
            raise UpstreamTimeout() from None
        except requests.RequestException as exc:
            logger.error("Daily unreachable", extra={"path": path, "reason": type(exc).__name__})
            raise UpstreamError() from None
        if not response.ok:
            raise error_for(response)
        body = _daily_error(response)
        if not body:
            logger.error(
                "Daily answered with a body that is not a JSON object", extra={"path": path}
            )
            raise UpstreamError()
        return body
