"""The secrets a request needs (Daily key, origin-verify value, room-naming key), read with one
Secrets Manager call.

They are read together with `BatchGetSecretValue` and kept for `max_age` seconds, so a cold create
makes one Secrets Manager call and a warm one none.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from daily_rooms.deadline import DeadlineSpent, bind_to_deadline
from daily_rooms.errors import NotConfigured, SecretUnavailable
from daily_rooms.telemetry import logger

MISSING = "ResourceNotFoundException"
EMPTY_RECHECK_SECONDS = 10
# One attempt of at most 1.5 s: botocore's retry sleep knows nothing of the request's deadline;
# the caller's retry (Retry-After: 5) reads again.
CLIENT_CONFIG = Config(
    connect_timeout=0.5, read_timeout=1, retries={"total_max_attempts": 1, "mode": "standard"}
)


@dataclass(frozen=True)
class DailyKey:
    """The Daily key secret: the API key and, when stored with it, its domain's id and name,
    which spare a create the `GET /v1/` call that would otherwise look them up."""

    api_key: str
    domain_id: str = ""
    domain_name: str = ""


def _text(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


def parse_daily_key(value: str | None) -> DailyKey:
    """`{"apiKey", "domainId", "domainName"}` (only apiKey required) or the key as plain text."""
    text = (value or "").strip()
    if not text.startswith("{"):
        return DailyKey(text)
    try:
        document = json.loads(text)
    except ValueError:
        return DailyKey("")
    if not isinstance(document, dict):
        return DailyKey("")
    fields = (document.get(name) for name in ("apiKey", "domainId", "domainName"))
    return DailyKey(*(_text(field) for field in fields))


def new_client() -> Any:
    """The Secrets Manager client of a container."""
    return bind_to_deadline(boto3.client("secretsmanager", config=CLIENT_CONFIG))


class StoredSecrets:
    """The Daily key secret and, when configured, the origin-verify and room-naming secrets."""

    def __init__(
        self,
        client: Any,
        key_secret: str,
        origin_secret: str,
        max_age: int,
        naming_secret: str = "",
        clock: Callable[[], float] = time.monotonic,
    ):
        self.client = client
        self.clock = clock  # what the cached values' age is measured by
        self.key_secret = key_secret
        self.origin_secret = origin_secret
        self.naming_secret = naming_secret
        self.max_age = max_age
        self.values: dict[str, str | None] = {}
        self.fetched_at: float | None = None

    def _read(self) -> dict[str, str | None]:
        """Every value (None for a secret that does not exist); SecretUnavailable on failure."""
        secrets = (self.key_secret, self.origin_secret, self.naming_secret)
        ids = [secret for secret in secrets if secret]
        try:
            answer = self.client.batch_get_secret_value(SecretIdList=ids)
        except ClientError as exc:
            self._unavailable(exc.response["Error"]["Code"])
        except (BotoCoreError, DeadlineSpent) as exc:
            self._unavailable(type(exc).__name__)
        values: dict[str, str | None] = dict.fromkeys(ids)
        for entry in answer.get("SecretValues", []):
            for secret in ids:
                if secret in (entry.get("ARN"), entry.get("Name")):
                    values[secret] = entry.get("SecretString")
        for error in answer.get("Errors", []):
            if error.get("ErrorCode") != MISSING:
                self._unavailable(str(error.get("ErrorCode")))
        return values

    @staticmethod
    def _unavailable(reason: str) -> None:
        logger.error("Cannot read the secrets", extra={"aws_error": reason})
        raise SecretUnavailable() from None

    def _current(self, refresh: bool = False) -> dict[str, str | None]:
        # An empty key is re-read soon, so a key put in after deploy is seen quickly.
        has_key = bool(parse_daily_key(self.values.get(self.key_secret)).api_key)
        max_age = self.max_age if has_key else EMPTY_RECHECK_SECONDS
        stale = self.fetched_at is None or self.clock() - self.fetched_at > max_age
        if refresh or stale:
            self.values = self._read()
            self.fetched_at = self.clock()
        return self.values

    def daily_key(self, *, refresh: bool = False) -> DailyKey:
        """The Daily key; NotConfigured while the secret is missing or holds no key."""
        if not self.key_secret:
            raise NotConfigured()
        key = parse_daily_key(self._current(refresh).get(self.key_secret))
        if not key.api_key:
            raise NotConfigured()
        return key

    def is_configured(self) -> bool:
        """Whether the secret holds a key (never exposes the key itself)."""
        try:
            self.daily_key()
        except NotConfigured:
            return False
        return True

    def _required(self, secret: str, kind: str) -> bytes:
        value = self._current().get(secret)
        if not value:
            logger.error("A secret the function needs is missing", extra={"secret": kind})
            raise SecretUnavailable()
        return value.encode()

    def origin_value(self) -> bytes:
        """The value CloudFront sends in X-Origin-Verify; SecretUnavailable when it is missing."""
        return self._required(self.origin_secret, "origin-verify")

    def naming_key(self) -> bytes:
        """The server-side key of room names derived from Idempotency-Keys.

        The room-naming secret, which the template generates for this alone: no header carries
        it, and the Daily key and the origin-verify value rotate without renaming rooms. Without
        one configured (a bare `sam local invoke`), the API key.
        """
        if self.naming_secret:
            return self._required(self.naming_secret, "room-naming")
        return self.daily_key().api_key.encode()
