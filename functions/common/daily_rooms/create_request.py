"""What a create asks for, read from the HttpApi event: from this site only, JSON only, small.

A cross-site page can send a form or `text/plain` without asking first; requiring
`Content-Type: application/json` makes the browser ask first (a CORS preflight), which fails
for any origin not in AllowedOrigins. Browsers that send `Sec-Fetch-Site` are refused at once.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEventV2

from daily_rooms.errors import (
    ForbiddenOrigin,
    InvalidRequest,
    PayloadTooLarge,
    UnsupportedMediaType,
)
from daily_rooms.settings import Settings
from daily_rooms.viewer import Viewer, viewer_of

MAX_BODY_BYTES = 2048
KEY_PATTERN = re.compile(r"[A-Za-z0-9_-]{8,128}")
# *.cloudfront.net is on the Public Suffix List: another distribution is another site, and a
# sibling subdomain of a custom domain ("same-site") is not this page either.
OTHER_SITES = {"cross-site", "same-site"}


@dataclass(frozen=True)
class CreateRequest:
    viewer: Viewer
    ttl: int
    idempotency_key: str | None


def require_this_site(headers: dict[str, str], allowed_origins: frozenset[str]) -> None:
    """Refuse a browser request that says it comes from another site, unless its origin is
    allowed. (The site's own page sends `Sec-Fetch-Site: same-origin`.)"""
    site = (headers.get("sec-fetch-site") or "").strip().lower()
    origin = (headers.get("origin") or "").strip().rstrip("/").lower()
    if (site in OTHER_SITES or origin == "null") and origin not in allowed_origins:
        raise ForbiddenOrigin()


def require_json(headers: dict[str, str]) -> None:
    """`Content-Type: application/json`, parameters such as `charset` allowed."""
    media_type = (headers.get("content-type") or "").split(";")[0].strip().lower()
    if media_type != "application/json":
        raise UnsupportedMediaType()


def request_body(event: APIGatewayProxyEventV2) -> str:
    """The body as text: too large is 413, not valid base64 or UTF-8 is 400."""
    try:
        body = event.decoded_body or ""
    except ValueError:
        raise InvalidRequest("The request body could not be decoded.") from None
    if len(body.encode()) > MAX_BODY_BYTES:
        raise PayloadTooLarge(f"The request body is larger than {MAX_BODY_BYTES} bytes.")
    return body


def requested_ttl(body: str, settings: Settings) -> int:
    """The room's lifetime in seconds from the optional JSON body `{"ttl_seconds": n}`."""
    if not body.strip():
        return settings.room_ttl
    try:
        document = json.loads(body)
    except (ValueError, RecursionError):  # deep nesting: RecursionError on Python 3.11 and 3.12
        raise InvalidRequest("The request body is not valid JSON.") from None
    if not isinstance(document, dict):
        raise InvalidRequest("The request body must be a JSON object.")
    if set(document) - {"ttl_seconds"}:  # the caller's field names are not echoed back
        raise InvalidRequest("The request body may only hold ttl_seconds.")
    ttl = document.get("ttl_seconds", settings.room_ttl)
    low, high = settings.min_room_ttl, settings.max_room_ttl
    if isinstance(ttl, bool) or not isinstance(ttl, int) or not low <= ttl <= high:
        raise InvalidRequest(f"ttl_seconds must be a whole number from {low} to {high}.")
    return ttl


def idempotency_key(headers: dict[str, str]) -> str | None:
    key = headers.get("idempotency-key")
    if key is not None and not KEY_PATTERN.fullmatch(key):
        raise InvalidRequest("Idempotency-Key must be 8 to 128 letters, digits, '-' or '_'.")
    return key


def read_create_request(
    event: APIGatewayProxyEventV2, settings: Settings, *, trusted: bool
) -> CreateRequest:
    """The create's viewer, ttl and Idempotency-Key, or the ApiError that refuses it."""
    headers = event.headers
    require_this_site(headers, settings.allowed_origins)
    require_json(headers)
    ttl = requested_ttl(request_body(event), settings)
    viewer = viewer_of(headers, event.request_context.http.source_ip, trusted=trusted)
    return CreateRequest(viewer, ttl, idempotency_key(headers))
