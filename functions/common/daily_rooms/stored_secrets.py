"""Secrets Manager values (the Daily API key, the origin-verify value), cached per container."""

from __future__ import annotations

import json
import time

import boto3
from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.parameters import GetParameterError, SecretsProvider
from aws_lambda_powertools.utilities.parameters.base import DEFAULT_PROVIDERS
from botocore.config import Config
from botocore.exceptions import ClientError

from daily_rooms.errors import NotConfigured, SecretUnavailable

logger = Logger(child=True)

_MISSING_CODES = {"ResourceNotFoundException"}
EMPTY_RECHECK_SECONDS = 10


CLIENT_CONFIG = Config(
    connect_timeout=1, read_timeout=2, retries={"max_attempts": 2, "mode": "standard"}
)


def _provider() -> SecretsProvider:
    """The provider `parameters.get_secret` uses (and `parameters.clear_caches` drops), made on
    first use with a client on boto3's default session, shared with the handler's other clients:
    the one Powertools would make opens a session of its own (about 8 MiB and 80 ms cold)."""
    if "secrets" not in DEFAULT_PROVIDERS:
        client = boto3.client("secretsmanager", config=CLIENT_CONFIG)
        DEFAULT_PROVIDERS["secrets"] = SecretsProvider(boto3_client=client)
    return DEFAULT_PROVIDERS["secrets"]


def read_secret(secret_id: str, max_age: int, *, refresh: bool = False) -> str | bytes | None:
    """The secret's value (None if it or its value does not exist); SecretUnavailable else."""
    try:
        return _provider().get(secret_id, max_age=max_age, force_fetch=refresh)
    except GetParameterError as exc:
        cause = exc.__context__
        code = cause.response["Error"]["Code"] if isinstance(cause, ClientError) else ""
        if code in _MISSING_CODES:
            return None
        logger.error("Cannot read a secret", extra={"aws_error": code or type(cause).__name__})
        raise SecretUnavailable(headers={"Retry-After": "5"}) from None


def parse_api_key(value: str | bytes | None) -> str:
    """Return the key from a secret value: a JSON object's `apiKey`, or the whole string."""
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    text = (value or "").strip()
    if text.startswith("{"):
        try:
            document = json.loads(text)
        except ValueError:
            return ""
        key = document.get("apiKey") if isinstance(document, dict) else None
        return key.strip() if isinstance(key, str) else ""
    return text


class ApiKeySource:
    """Reads the Daily API key from one secret; the value is cached for `max_age` seconds."""

    def __init__(self, secret_id: str, max_age: int):
        self.secret_id = secret_id
        self.max_age = max_age
        self._empty_since: float | None = None

    def get(self, *, refresh: bool = False) -> str:
        """The key; raises NotConfigured when the secret is missing or empty."""
        if not self.secret_id:
            raise NotConfigured()
        if self._empty_since is not None:
            refresh = refresh or time.monotonic() - self._empty_since > EMPTY_RECHECK_SECONDS
        value = read_secret(self.secret_id, self.max_age, refresh=refresh)
        key = parse_api_key(value)
        if not key:
            # An empty secret is re-read soon, so a key put in after deploy is seen quickly.
            if refresh or self._empty_since is None:
                self._empty_since = time.monotonic()
            raise NotConfigured()
        self._empty_since = None
        return key

    def is_configured(self) -> bool:
        """Whether the secret holds a non-empty key (never exposes the key itself)."""
        try:
            self.get()
        except NotConfigured:
            return False
        return True
