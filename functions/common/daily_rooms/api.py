"""The HttpApi resolver every function uses: JSON errors with the request id, 404 and 405."""

from __future__ import annotations

import json
from collections.abc import Callable

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.event_handler.middlewares import NextMiddleware
from aws_lambda_powertools.utilities.typing import LambdaContext

from daily_rooms.errors import ApiError, MethodNotAllowed, NotFound
from daily_rooms.telemetry import count, logger
from daily_rooms.viewer import OriginCheck

# What Lambda calls: (event, context) -> the HttpApi answer.
Handler = Callable[[dict, LambdaContext], dict]
JSON_HEADERS = {"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"}
OTHER_METHODS = ["GET", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "POST"]


def _dumps(body: dict) -> str:
    return json.dumps(body, separators=(",", ":"))


def json_response(status: int, body: dict, headers: dict[str, str] | None = None) -> Response:
    """A JSON response that no cache keeps."""
    return Response(
        status_code=status,
        content_type="application/json",
        body=_dumps(body),
        headers={**JSON_HEADERS, **(headers or {})},
    )


def _count_error(error: ApiError) -> None:
    """The metrics of one error answer: 5xx or 4xx, internal errors (our bug, not Daily's or
    AWS's: they roll a canary back) and the error's own metric, if it has one."""
    count("ServerErrors" if error.status >= 500 else "ClientErrors")
    if error.code == ApiError.code:
        count("InternalErrors")
    if error.metric:
        count(error.metric)


def resolve(app: APIGatewayHttpResolver, event: dict, context: LambdaContext) -> dict:
    """Resolve the event; even one the resolver cannot read is answered with JSON."""
    try:
        return app.resolve(event, context)
    except Exception:
        logger.exception("Event could not be handled")
        error = ApiError()
        _count_error(error)
        context_part = event.get("requestContext") if isinstance(event, dict) else None
        request_id = context_part.get("requestId") if isinstance(context_part, dict) else None
        return {
            "statusCode": error.status,
            "headers": {"Content-Type": "application/json", **JSON_HEADERS},
            "body": _dumps(error.body(request_id)),
        }


def new_resolver(origin: OriginCheck) -> APIGatewayHttpResolver:
    """A resolver that refuses calls bypassing the CDN and answers every error as
    `{error, message, requestId}`."""
    app = APIGatewayHttpResolver()

    def require_origin(app: APIGatewayHttpResolver, next_middleware: NextMiddleware) -> Response:
        origin.require(app.current_event.headers)
        return next_middleware(app)

    app.use([require_origin])

    def error_response(error: ApiError) -> Response:
        request_id = app.current_event.request_context.request_id
        fields = {"error": error.code, **error.log_fields()}
        logger.info("Request answered with an error", extra=fields)
        _count_error(error)
        return json_response(error.status, error.body(request_id), error.headers)

    @app.exception_handler(ApiError)
    def handle_api_error(error: ApiError) -> Response:
        return error_response(error)

    @app.exception_handler(Exception)
    def handle_unexpected(error: Exception) -> Response:
        logger.exception("Unhandled error")
        return error_response(ApiError())

    @app.not_found
    def handle_not_found(_: Exception) -> Response:
        return error_response(NotFound())

    return app


def allow_only(app: APIGatewayHttpResolver, path: str, method: str) -> None:
    """Answer every other method on `path` with 405 and an `Allow` header."""

    @app.route(path, method=[m for m in OTHER_METHODS if m != method])
    def method_not_allowed() -> Response:
        raise MethodNotAllowed(method)
