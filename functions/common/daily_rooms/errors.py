"""Every error the API answers: a stable code, a human message and an HTTP status."""

from __future__ import annotations


class ApiError(Exception):
    """An error answered to the caller as JSON `{error, message, requestId}`."""

    status = 500
    code = "internal_error"
    default_message = "Something went wrong on our side. Please try again."
    metric: str | None = None  # a Count metric of its own, besides ServerErrors/ClientErrors

    def __init__(self, message: str | None = None, *, headers: dict[str, str] | None = None):
        self.message = message or self.default_message
        self.headers = headers or {}
        super().__init__(self.message)

    def body(self, request_id: str | None) -> dict[str, str | None]:
        """The JSON body of every error answer."""
        return {"error": self.code, "message": self.message, "requestId": request_id}

    def log_fields(self) -> dict[str, str]:
        """What the error line logs besides the code."""
        return {}


class InvalidRequest(ApiError):
    status = 400
    code = "invalid_request"
    default_message = "The request is not valid."


class Forbidden(ApiError):
    status = 403
    code = "forbidden"
    default_message = "Call this API through the site's own address."


class ForbiddenOrigin(ApiError):
    status = 403
    code = "forbidden_origin"
    default_message = "Rooms can only be created from this site's own page."


class NotFound(ApiError):
    status = 404
    code = "not_found"
    default_message = "There is no such endpoint."


class MethodNotAllowed(ApiError):
    status = 405
    code = "method_not_allowed"

    def __init__(self, allow: str):
        super().__init__(f"Use {allow} on this endpoint.", headers={"Allow": allow})


class IdempotencyKeyExpired(ApiError):
    status = 409
    code = "idempotency_key_expired"
    default_message = "The room made for this Idempotency-Key has ended. Send a new key."


class PayloadTooLarge(ApiError):
    status = 413
    code = "payload_too_large"
    default_message = "The request body is too large."


class UnsupportedMediaType(ApiError):
    status = 415
    code = "unsupported_media_type"
    default_message = "Send the request body as JSON, with Content-Type: application/json."


class RateLimited(ApiError):
    """A quota is used up; `limit` says which one: viewer, prefix or day."""

    status = 429
    code = "rate_limited"
    metric = "RateLimited"

    def __init__(self, message: str, *, limit: str, retry_after: int):
        super().__init__(message, headers={"Retry-After": str(retry_after)})
        self.limit = limit

    def log_fields(self) -> dict[str, str]:
        return {"limit": self.limit}


class DailyFailure(ApiError):
    """Daily failed us (an `upstream_*` error)."""

    metric = "DailyFailures"


class UpstreamAuth(DailyFailure):
    status = 502
    code = "upstream_auth"
    default_message = "The video service rejected this server's credentials."


class UpstreamRejected(DailyFailure):
    status = 502
    code = "upstream_rejected"
    default_message = "The video service refused to create the room."


class UpstreamError(DailyFailure):
    status = 502
    code = "upstream_error"
    default_message = "The video service did not answer properly. Please try again."


class NotConfigured(ApiError):
    status = 503
    code = "not_configured"
    default_message = "Room creation is unavailable right now. Joining a room still works."


class OriginCheckUnconfigured(ApiError):
    status = 503
    code = "origin_check_unconfigured"
    default_message = "This service is not set up to answer requests yet."


class SecretUnavailable(ApiError):
    status = 503
    code = "secret_unavailable"
    default_message = "The service cannot read its configuration right now. Please try again."

    def __init__(self) -> None:
        super().__init__(headers={"Retry-After": "5"})


class LimiterUnavailable(ApiError):
    status = 503
    code = "limiter_unavailable"
    default_message = "Room creation is paused because its usage limits cannot be checked."

    def __init__(self) -> None:
        super().__init__(headers={"Retry-After": "30"})


class UpstreamBusy(DailyFailure):
    status = 503
    code = "upstream_busy"
    default_message = "The video service is busy. Please try again in a moment."

    def __init__(self, retry_after: int):
        super().__init__(headers={"Retry-After": str(retry_after)})


class UpstreamTimeout(DailyFailure):
    status = 504
    code = "upstream_timeout"
    default_message = "The video service took too long to answer. Please try again."
