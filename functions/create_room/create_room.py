"""POST /api/rooms: create a temporary Daily room and answer its public shape."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import requests
from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from daily_rooms import deadline, quota, stored_secrets
from daily_rooms.api import Handler, allow_only, json_response, new_resolver, resolve
from daily_rooms.create_request import read_create_request
from daily_rooms.daily_client import DailyClient
from daily_rooms.quota import Limits, Quota
from daily_rooms.room_creator import RoomCreator
from daily_rooms.settings import Settings
from daily_rooms.stored_secrets import StoredSecrets
from daily_rooms.telemetry import count, logger, metrics
from daily_rooms.viewer import OriginCheck

# The whole request ends this long before Lambda would stop it, so every answer is ours.
DEADLINE_MARGIN_SECONDS = 1.5


def build(
    settings: Settings,
    secretsmanager: Any,
    dynamodb: Any,
    daily_session: requests.Session,
    clock: Callable[[], float] = time.time,
) -> Handler:
    """The function's handler, made of its settings, its clients and the clock rooms end by."""
    secrets = StoredSecrets(
        secretsmanager,
        settings.api_key_secret,
        settings.origin_verify_secret,
        settings.secret_max_age,
        settings.room_naming_secret,
    )
    origin = OriginCheck(secrets, local_only_skip=settings.local_only_skip_origin_verify)
    limits = Limits(
        settings.viewer_limit, settings.prefix_limit, settings.viewer_window, settings.daily_cap
    )
    daily = DailyClient(
        daily_session, settings.daily_api_url, settings.connect_timeout, settings.read_timeout
    )
    creator = RoomCreator(
        settings, secrets, Quota(dynamodb, settings.state_table, limits), daily, clock
    )
    app = new_resolver(origin)
    allow_only(app, "/api/rooms", "POST")

    @app.post("/api/rooms")
    def create_room() -> Response:
        request = read_create_request(app.current_event, settings, trusted=origin.enabled)
        room = creator.create(request, deadline.current())
        logger.info("Room created", extra={"room": room["name"], "ttl_seconds": request.ttl})
        count("RoomsCreated")
        return json_response(201, room)

    @logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
    @metrics.log_metrics(capture_cold_start_metric=True)
    def handler(event: dict, context: LambdaContext) -> dict:
        seconds_left = context.get_remaining_time_in_millis() / 1000
        seconds = min(settings.request_deadline, seconds_left - DEADLINE_MARGIN_SECONDS)
        with deadline.request_deadline(seconds):
            return resolve(app, event, context)

    return handler


handler = build(
    Settings.from_env(), stored_secrets.new_client(), quota.new_client(), requests.Session()
)
