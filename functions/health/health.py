"""GET /api/health: whether the Daily API key is in place, and the room lifetimes a create accepts.

The key itself is never shown or logged.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from daily_rooms import stored_secrets
from daily_rooms.api import Handler, allow_only, json_response, new_resolver, resolve
from daily_rooms.settings import Settings
from daily_rooms.stored_secrets import StoredSecrets
from daily_rooms.telemetry import count, logger, metrics
from daily_rooms.viewer import OriginCheck

# For the operator: the page only tells visitors that room creation is unavailable.
NOT_CONFIGURED_HELP = (
    'No Daily API key in the secret, so rooms cannot be created: put {"apiKey": "..."} into it '
    '(docs/operations.md, "When the page says room creation is unavailable")'
)


def build(settings: Settings, secretsmanager: Any) -> Handler:
    """The function's handler, made of its settings and its Secrets Manager client."""
    secrets = StoredSecrets(
        secretsmanager,
        settings.api_key_secret,
        settings.origin_verify_secret,
        settings.secret_max_age,
    )
    origin = OriginCheck(secrets, local_only_skip=settings.local_only_skip_origin_verify)
    app = new_resolver(origin)
    allow_only(app, "/api/health", "GET")

    @app.get("/api/health")
    def health() -> Response:
        configured = secrets.is_configured()
        count("KeyConfigured", int(configured))
        if not configured:
            logger.warning(NOT_CONFIGURED_HELP, extra={"secret": settings.api_key_secret})
        ttl = {
            "min": settings.min_room_ttl,
            "max": settings.max_room_ttl,
            "default": settings.room_ttl,
        }
        return json_response(200, {"configured": configured, "ttl": ttl})

    @logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
    @metrics.log_metrics(capture_cold_start_metric=True)
    def handler(event: dict, context: LambdaContext) -> dict:
        return resolve(app, event, context)

    return handler


handler = build(Settings.from_env(), stored_secrets.new_client())
