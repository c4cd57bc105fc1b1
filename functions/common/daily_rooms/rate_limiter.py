"""Per-viewer and global room quotas, counted atomically in DynamoDB.

One `TransactWriteItems` adds 1 to the viewer's counter for the current window and to the global
counter for the current UTC day, each only while below its limit: both count, or neither does.
Counters expire through the table's TTL attribute. If DynamoDB cannot answer, creation is
refused (fail closed): a public endpoint that costs money must not run without its limits.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from aws_lambda_powertools import Logger
from botocore.exceptions import BotoCoreError, ClientError

from daily_rooms.errors import ApiError

logger = Logger(child=True)

DAY = 86_400


class RateLimited(ApiError):
    status = 429
    code = "rate_limited"


class LimiterUnavailable(ApiError):
    status = 503
    code = "limiter_unavailable"
    default_message = "Room creation is paused because its usage limits cannot be checked."


@dataclass(frozen=True)
class Limits:
    per_viewer: int
    window_seconds: int
    per_day: int


def _minutes(seconds: int) -> str:
    minutes = max(1, round(seconds / 60))
    return f"{minutes} minute{'s' if minutes != 1 else ''}"


class RateLimiter:
    """Counts room creations per viewer and per day in one DynamoDB table."""

    def __init__(self, table: str, limits: Limits, client: Any):
        self.table = table
        self.limits = limits
        self.client = client

    def _increment(self, key: str, limit: int, expires: int) -> dict[str, Any]:
        return {
            "Update": {
                "TableName": self.table,
                "Key": {"id": {"S": key}},
                "UpdateExpression": "ADD hits :one SET expiration = :expires",
                "ConditionExpression": "attribute_not_exists(hits) OR hits < :limit",
                "ExpressionAttributeValues": {
                    ":one": {"N": "1"},
                    ":limit": {"N": str(limit)},
                    ":expires": {"N": str(expires)},
                },
            }
        }

    def consume(self, viewer: str, now: float | None = None) -> None:
        """Count one room for `viewer`; raise RateLimited or LimiterUnavailable instead."""
        now = int(time.time() if now is None else now)
        window = self.limits.window_seconds
        window_start, day_start = now - now % window, now - now % DAY
        items = [
            self._increment(
                f"viewer#{viewer}#{window_start}", self.limits.per_viewer, window_start + window
            ),
            self._increment(f"day#{day_start}", self.limits.per_day, day_start + DAY),
        ]
        try:
            self.client.transact_write_items(TransactItems=items)
        except ClientError as exc:
            reasons = [r.get("Code") for r in exc.response.get("CancellationReasons", [])]
            if reasons[:1] == ["ConditionalCheckFailed"]:
                retry = window_start + window - now
                message = (
                    f"You can create {self.limits.per_viewer} rooms every "
                    f"{_minutes(window)}. Please try again in {_minutes(retry)}."
                )
                raise RateLimited(message, headers={"Retry-After": str(retry)}) from None
            if "ConditionalCheckFailed" in reasons:
                retry = day_start + DAY - now
                message = (
                    "This demo has reached its room limit for today. Please try again tomorrow."
                )
                raise RateLimited(message, headers={"Retry-After": str(retry)}) from None
            self._unavailable(exc.response["Error"]["Code"])
        except BotoCoreError as exc:
            self._unavailable(type(exc).__name__)

    @staticmethod
    def _unavailable(reason: str) -> None:
        logger.error("Rate limiter unavailable: refusing to create rooms", extra={"reason": reason})
        raise LimiterUnavailable(headers={"Retry-After": "30"}) from None
