"""The API's error type: a stable code, a human message and an HTTP status."""

from __future__ import annotations


class ApiError(Exception):
    """An error answered to the caller as JSON `{error, message, requestId}`."""

    status = 500
    code = "internal_error"
    default_message = "Something went wrong on our side. Please try again."

    def __init__(self, message: str | None = None, *, headers: dict[str, str] | None = None):
        self.message = message or self.default_message
        self.headers = headers or {}
        super().__init__(self.message)

    def body(self, request_id: str | None) -> dict[str, str | None]:
        """The JSON body of every error answer."""
        return {"error": self.code, "message": self.message, "requestId": request_id}


class InvalidRequest(ApiError):
    status = 400
    code = "invalid_request"
    default_message = "The request is not valid."


class NotFound(ApiError):
    status = 404
    code = "not_found"
    default_message = "There is no such endpoint."


class MethodNotAllowed(ApiError):
    status = 405
    code = "method_not_allowed"

    def __init__(self, allow: str):
        super().__init__(f"Use {allow} on this endpoint.", headers={"Allow": allow})


class NotConfigured(ApiError):
    status = 503
    code = "not_configured"
    default_message = "Room creation is unavailable right now. Joining a room still works."


class SecretUnavailable(ApiError):
    status = 503
    code = "secret_unavailable"
    default_message = "The service cannot read its configuration right now. Please try again."


class UpstreamAuth(ApiError):
    status = 502
    code = "upstream_auth"
    default_message = "The video service rejected this server's credentials."


class UpstreamBusy(ApiError):
    status = 503
    code = "upstream_busy"
    default_message = "The video service is busy. Please try again in a moment."

    def __init__(self, retry_after: int):
        super().__init__(headers={"Retry-After": str(retry_after)})


class UpstreamRejected(ApiError):
    status = 502
    code = "upstream_rejected"
    default_message = "The video service refused to create the room."


class UpstreamError(ApiError):
    status = 502
    code = "upstream_error"
    default_message = "The video service did not answer properly. Please try again."


class UpstreamTimeout(ApiError):
    status = 504
    code = "upstream_timeout"
    default_message = "The video service took too long to answer. Please try again."
