"""Idempotent creates: the same Idempotency-Key from the same viewer answers the same room.

Powertools idempotency keeps each key's outcome in the state table (records expire by TTL).
A request without the header is simply not deduplicated.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from aws_lambda_powertools.utilities.idempotency import (
    DynamoDBPersistenceLayer,
    IdempotencyConfig,
    idempotent_function,
)
from aws_lambda_powertools.utilities.idempotency.exceptions import (
    BaseError,
    IdempotencyAlreadyInProgressError,
    IdempotencyValidationError,
)
from aws_lambda_powertools.utilities.typing import LambdaContext

from daily_rooms.daily_client import Deadline
from daily_rooms.errors import ApiError, InvalidRequest
from daily_rooms.rate_limiter import LimiterUnavailable

KEY_PATTERN = re.compile(r"[A-Za-z0-9_-]{8,128}")
Create = Callable[[str, int, Deadline], dict[str, Any]]


class RequestInProgress(ApiError):
    status = 409
    code = "request_in_progress"
    default_message = "This request is still being handled. Please retry in a moment."


class Idempotency:
    def __init__(self, table: str, ttl_seconds: int, client: Any, create: Create):
        self.create = create
        self.config = IdempotencyConfig(
            event_key_jmespath="[viewer, key]",
            payload_validation_jmespath="ttl",
            expires_after_seconds=ttl_seconds,
        )
        persistence = DynamoDBPersistenceLayer(table_name=table, boto3_client=client)

        @idempotent_function(
            data_keyword_argument="request", config=self.config, persistence_store=persistence
        )
        def create_once(request: dict[str, Any], deadline: Deadline) -> dict[str, Any]:
            return create(request["viewer"], request["ttl"], deadline)

        self._create_once = create_once

    def register(self, context: LambdaContext) -> None:
        """Let Powertools expire in-progress records when the invocation would time out."""
        self.config.register_lambda_context(context)

    def run(self, key: str | None, viewer: str, ttl: int, deadline: Deadline) -> dict[str, Any]:
        """Create once per (viewer, key); a repeat answers the stored result."""
        if key is None:
            return self.create(viewer, ttl, deadline)
        if not KEY_PATTERN.fullmatch(key):
            raise InvalidRequest("Idempotency-Key must be 8 to 128 letters, digits, '-' or '_'.")
        request = {"key": key, "viewer": viewer, "ttl": ttl}
        try:
            return self._create_once(request=request, deadline=deadline)
        except IdempotencyAlreadyInProgressError:
            raise RequestInProgress(headers={"Retry-After": "1"}) from None
        except IdempotencyValidationError:
            raise InvalidRequest(
                "This Idempotency-Key was already used for another request."
            ) from None
        except BaseError:
            raise LimiterUnavailable(headers={"Retry-After": "30"}) from None
