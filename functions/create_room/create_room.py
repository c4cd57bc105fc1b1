"""POST /api/rooms: create a temporary Daily room and answer its public shape."""

from __future__ import annotations

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from daily_rooms.api import allow_only, json_response, metrics, new_resolver
from daily_rooms.api_key import ApiKeySource
from daily_rooms.daily_client import DailyClient
from daily_rooms.rooms import new_room_name, public_room, requested_ttl, room_properties
from daily_rooms.settings import Settings

settings = Settings.from_env()
logger = Logger()
api_key = ApiKeySource(settings.api_key_secret, settings.secret_max_age)
daily = DailyClient(settings.daily_api_url, settings.connect_timeout, settings.read_timeout)
app = new_resolver()
allow_only(app, "/api/rooms", "POST")


@app.post("/api/rooms")
def create_room() -> Response:
    ttl = requested_ttl(app.current_event.decoded_body, settings)
    key = api_key.get()
    properties = room_properties(ttl, settings)
    room = daily.post("/rooms", key, {"name": new_room_name(), "properties": properties})
    body = public_room(room, properties["exp"])
    logger.info("Room created", extra={"room": body["name"], "ttl_seconds": ttl})
    metrics.add_metric(name="RoomsCreated", unit=MetricUnit.Count, value=1)
    return json_response(201, body)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@metrics.log_metrics(capture_cold_start_metric=True)
def handler(event: dict, context: LambdaContext) -> dict:
    return app.resolve(event, context)
