"""The one DynamoDB write of a create: the quotas and, with an Idempotency-Key, the key's marker.

One `TransactWriteItems` adds 1 to the viewer's window counter, to its IPv6 /48's window counter
and to the day's counter, each only while below its limit, and puts the key's marker unless a live
one exists: all of it happens, or none. A live marker means the request was made before: nothing
is counted and the create goes on with the marker's room expiry, so a retry gets the same room.
Counters live under keys that name their window, and the marker's condition compares its
`expiration` attribute: TTL deletes expired items lazily (up to days late) and nothing relies on it.

DynamoDB cancels a transaction that touches an item another write is touching
(`TransactionConflict`); every create touches the day's counter, so conflicts happen under load.
They, throttling and unknown outcomes are retried with full jitter inside the request's deadline.
If DynamoDB cannot answer, creation is refused (fail closed).
"""

from __future__ import annotations

import itertools
import time
import uuid
from dataclasses import dataclass
from typing import Any, NoReturn

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from daily_rooms.deadline import (
    Backoff,
    Deadline,
    DeadlineSpent,
    attempt_seconds,
    bind_to_deadline,
)
from daily_rooms.errors import (
    IdempotencyKeyExpired,
    InvalidRequest,
    LimiterUnavailable,
    RateLimited,
)
from daily_rooms.telemetry import logger
from daily_rooms.viewer import Viewer

DAY = 86_400
KEY_RETENTION_SECONDS = DAY  # a key's marker outlives its room by a day: see README
CONFLICT = "TransactionConflict"
FAILED_CONDITION = "ConditionalCheckFailed"
# Not applied, and worth another try (cancellation reasons and error codes).
RETRY_CODES = {
    CONFLICT,
    "ThrottlingError",
    "ThrottlingException",
    "ProvisionedThroughputExceeded",
    "ProvisionedThroughputExceededException",
    "RequestLimitExceeded",
}
# Maybe applied: retried with the same ClientRequestToken, which DynamoDB deduplicates, but only
# so often: an outage should be answered quickly, not at the end of the deadline.
UNKNOWN_OUTCOME_CODES = {
    "InternalServerError",
    "ServiceUnavailable",
    "TransactionInProgressException",  # the same token's earlier attempt is still running
}
OUTAGE_ATTEMPTS = 3
# One attempt per call, of at most 1.5 s (DynamoDB answers a write in milliseconds). botocore's own
# retries would back off regardless of the deadline: `spend` retries instead, while an attempt
# still fits, so a write that then answers at once leaves Daily about that much.
CLIENT_CONFIG = Config(
    connect_timeout=0.5, read_timeout=1, retries={"total_max_attempts": 1, "mode": "standard"}
)


def new_client() -> Any:
    """The DynamoDB client of a container."""
    return bind_to_deadline(boto3.client("dynamodb", config=CLIENT_CONFIG))


@dataclass(frozen=True)
class Limits:
    per_viewer: int
    per_prefix: int
    window_seconds: int
    per_day: int


@dataclass(frozen=True)
class Marker:
    """An Idempotency-Key's record: its id, and the ttl of the request that made it."""

    id: str
    ttl: int


def _minutes(seconds: int) -> str:
    """Whole minutes, rounded up: whoever waits that long is not refused again."""
    minutes = max(1, -(-seconds // 60))
    return f"{minutes} minute{'s' if minutes != 1 else ''}"


class _Retry(Exception):
    """This attempt was cancelled or throttled (`maybe_applied` False), or its outcome is unknown:
    try again if time allows."""

    def __init__(self, reason: str, *, maybe_applied: bool):
        super().__init__(reason)
        self.reason = reason
        self.maybe_applied = maybe_applied


class Quota:
    """Counts room creations per viewer, per IPv6 /48 and per day, and records keys' markers."""

    def __init__(self, client: Any, table: str, limits: Limits, backoff: Backoff | None = None):
        self.client = client
        self.table = table
        self.limits = limits
        self.backoff = backoff or Backoff(base=0.025, cap=0.4)

    def _counter(self, key: str, limit: int, expires: int) -> dict[str, Any]:
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

    def _marker(self, marker: Marker, exp: int, now: int) -> dict[str, Any]:
        return {
            "Put": {
                "TableName": self.table,
                "Item": {
                    "id": {"S": marker.id},
                    "ttl_seconds": {"N": str(marker.ttl)},
                    "room_exp": {"N": str(exp)},
                    "expiration": {"N": str(exp + KEY_RETENTION_SECONDS)},
                },
                "ConditionExpression": "attribute_not_exists(id) OR expiration <= :now",
                "ExpressionAttributeValues": {":now": {"N": str(now)}},
                "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
            }
        }

    def _items(
        self, viewer: Viewer, marker: Marker | None, exp: int, now: int
    ) -> tuple[list[str], list[dict[str, Any]]]:
        """What one create writes, each with its kind: marker first, then the counters."""
        window = self.limits.window_seconds
        window_start, day_start = now - now % window, now - now % DAY
        window_end = window_start + window
        kinds, items = [], []
        if marker is not None:
            kinds.append("marker")
            items.append(self._marker(marker, exp, now))
        kinds.append("viewer")
        items.append(
            self._counter(
                f"viewer#{viewer.address}#{window_start}", self.limits.per_viewer, window_end
            )
        )
        if viewer.prefix is not None:
            kinds.append("prefix")
            items.append(
                self._counter(
                    f"prefix#{viewer.prefix}#{window_start}", self.limits.per_prefix, window_end
                )
            )
        kinds.append("day")
        items.append(self._counter(f"day#{day_start}", self.limits.per_day, day_start + DAY))
        return kinds, items

    def spend(
        self,
        viewer: Viewer,
        marker: Marker | None,
        exp: int,
        deadline: Deadline,
        now: int | None = None,
    ) -> int:
        """Count one room ending at `exp`, or find the marker an earlier attempt of the same
        request left: the `exp` the room has. Raises RateLimited, InvalidRequest,
        IdempotencyKeyExpired or LimiterUnavailable instead."""
        now = int(time.time()) if now is None else now
        kinds, items = self._items(viewer, marker, exp, now)
        token, outages = str(uuid.uuid4()), 0
        for attempt in itertools.count():
            try:
                return self._write(kinds, items, token, exp, marker, now)
            except _Retry as retry:
                if retry.maybe_applied:
                    outages += 1
                else:
                    token = str(uuid.uuid4())
                wait = self.backoff.wait(attempt)
                enough_time = deadline.fits(wait + attempt_seconds(self.client.meta.config))
                if outages >= OUTAGE_ATTEMPTS or not enough_time:
                    self._unavailable(retry.reason)
                logger.info("Retrying the quota write", extra={"reason": retry.reason})
                time.sleep(wait)
        raise AssertionError("unreachable: the loop returns or raises")

    def _write(
        self,
        kinds: list[str],
        items: list[dict[str, Any]],
        token: str,
        exp: int,
        marker: Marker | None,
        now: int,
    ) -> int:
        try:
            self.client.transact_write_items(TransactItems=items, ClientRequestToken=token)
        except ClientError as exc:
            code = exc.response["Error"]["Code"]
            if code == "TransactionCanceledException":
                reasons = exc.response.get("CancellationReasons", [])
                return self._cancelled(kinds, reasons, marker, now)
            if code in RETRY_CODES or code in UNKNOWN_OUTCOME_CODES:
                raise _Retry(code, maybe_applied=code in UNKNOWN_OUTCOME_CODES) from None
            self._unavailable(code)
        except DeadlineSpent:
            self._unavailable("DeadlineSpent")
        except BotoCoreError as exc:  # timeouts, dropped connections: maybe applied
            raise _Retry(type(exc).__name__, maybe_applied=True) from None
        return exp

    def _cancelled(
        self, kinds: list[str], reasons: list[dict[str, Any]], marker: Marker | None, now: int
    ) -> int:
        codes = dict(zip(kinds, (reason.get("Code") for reason in reasons), strict=False))
        if codes.get("marker") == FAILED_CONDITION and marker is not None:
            return self._repeat(marker, reasons[0].get("Item") or {}, now)
        for kind in ("viewer", "prefix", "day"):
            if codes.get(kind) == FAILED_CONDITION:
                raise self._limited(kind, now)
        retryable = sorted(set(codes.values()) & RETRY_CODES)
        if retryable:
            raise _Retry(retryable[0], maybe_applied=False)
        self._unavailable(",".join(str(code) for code in codes.values()))

    @staticmethod
    def _repeat(marker: Marker, item: dict[str, Any], now: int) -> int:
        """The room expiry a live marker holds, for a repeat of the request that made it."""
        try:
            ttl, room_exp = int(item["ttl_seconds"]["N"]), int(item["room_exp"]["N"])
        except (KeyError, TypeError, ValueError):
            Quota._unavailable("marker unreadable")
        if ttl != marker.ttl:
            raise InvalidRequest("This Idempotency-Key was already used for another request.")
        if room_exp <= now:
            raise IdempotencyKeyExpired()
        logger.info("Repeat of an earlier request: no quota spent")
        return room_exp

    def _limited(self, kind: str, now: int) -> RateLimited:
        window = self.limits.window_seconds
        if kind == "day":
            return RateLimited(
                "This demo has reached its room limit for today. Please try again tomorrow.",
                limit=kind,
                retry_after=DAY - now % DAY,
            )
        retry = window - now % window
        if kind == "prefix":
            message = (
                "Too many rooms were created from your network recently. "
                f"Please try again in {_minutes(retry)}."
            )
        else:
            message = (
                f"You can create {self.limits.per_viewer} rooms every {_minutes(window)}. "
                f"Please try again in {_minutes(retry)}."
            )
        return RateLimited(message, limit=kind, retry_after=retry)

    @staticmethod
    def _unavailable(reason: str) -> NoReturn:
        logger.error("Rate limiter unavailable: refusing to create rooms", extra={"reason": reason})
        raise LimiterUnavailable() from None
