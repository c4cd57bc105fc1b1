"""POST /api/rooms: create a temporary Daily room and answer its public shape."""

from __future__ import annotations

import boto3
from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from botocore.config import Config

from daily_rooms.api import allow_only, json_response, metrics, new_resolver, request_body, resolve
from daily_rooms.daily_client import DailyClient, Deadline
from daily_rooms.idempotency import Idempotency
from daily_rooms.rate_limiter import Limits, RateLimiter
from daily_rooms.room_creator import RoomCreator
from daily_rooms.rooms import requested_ttl
from daily_rooms.settings import Settings
from daily_rooms.stored_secrets import ApiKeySource
from daily_rooms.viewer import OriginCheck, viewer_address

DEADLINE_MARGIN_SECONDS = 1.5

settings = Settings.from_env()
logger = Logger()
# Fail fast when DynamoDB is unreachable: the limiter then refuses creation (fail closed).
dynamodb = boto3.client(
    "dynamodb",
    config=Config(
        connect_timeout=1, read_timeout=2, retries={"max_attempts": 2, "mode": "standard"}
    ),
)
origin = OriginCheck(settings.origin_verify_secret, settings.secret_max_age)
creator = RoomCreator(
    settings,
    DailyClient(settings.daily_api_url, settings.connect_timeout, settings.read_timeout),
    ApiKeySource(settings.api_key_secret, settings.secret_max_age),
    RateLimiter(
        settings.state_table,
        Limits(settings.viewer_limit, settings.viewer_window, settings.daily_cap),
        dynamodb,
    ),
)
idempotency = Idempotency(settings.state_table, settings.idempotency_ttl, dynamodb, creator.create)
app = new_resolver(origin)
allow_only(app, "/api/rooms", "POST")


@app.post("/api/rooms")
def create_room() -> Response:
    event = app.current_event
    ttl = requested_ttl(request_body(event), settings)
    viewer = viewer_address(
        event.headers, event.request_context.http.source_ip, trusted=origin.enabled
    )
    seconds_left = app.lambda_context.get_remaining_time_in_millis() / 1000
    deadline = Deadline(min(settings.daily_deadline, seconds_left - DEADLINE_MARGIN_SECONDS))
    body = idempotency.run(event.headers.get("idempotency-key"), viewer, ttl, deadline)
    logger.info("Room created", extra={"room": body["name"], "ttl_seconds": ttl})
    metrics.add_metric(name="RoomsCreated", unit=MetricUnit.Count, value=1)
    return json_response(201, body)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@metrics.log_metrics(capture_cold_start_metric=True)
def handler(event: dict, context: LambdaContext) -> dict:
    idempotency.register(context)
    return resolve(app, event, context)
