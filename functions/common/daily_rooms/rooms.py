"""What a new room looks like: its server-chosen name, its Daily properties, its public shape."""

from __future__ import annotations

import json
import secrets
import time
from typing import Any

from daily_rooms.errors import InvalidRequest, UpstreamError
from daily_rooms.settings import Settings

MAX_BODY_BYTES = 2048


def new_room_name() -> str:
    """A random, URL-safe, unguessable name (128 bits from `secrets`), valid for Daily."""
    return secrets.token_urlsafe(16)


def requested_ttl(body: str | None, settings: Settings) -> int:
    """The room's lifetime in seconds from the optional JSON body `{"ttl_seconds": n}`."""
    if body is None or not body.strip():
        return settings.room_ttl
    if len(body.encode()) > MAX_BODY_BYTES:
        raise InvalidRequest(f"The request body is larger than {MAX_BODY_BYTES} bytes.")
    try:
        document = json.loads(body)
    except ValueError:
        raise InvalidRequest("The request body is not valid JSON.") from None
    if not isinstance(document, dict):
        raise InvalidRequest("The request body must be a JSON object.")
    unknown = sorted(set(document) - {"ttl_seconds"})
    if unknown:
        raise InvalidRequest(
            f"Unknown field(s): {', '.join(unknown)}. Only ttl_seconds is accepted."
        )
    ttl = document.get("ttl_seconds", settings.room_ttl)
    low, high = settings.min_room_ttl, settings.max_room_ttl
    if isinstance(ttl, bool) or not isinstance(ttl, int) or not low <= ttl <= high:
        raise InvalidRequest(f"ttl_seconds must be a whole number from {low} to {high}.")
    return ttl


def room_properties(ttl: int, settings: Settings, now: float | None = None) -> dict[str, Any]:
    """The Daily properties of a new room; `exp` is computed per request, in whole seconds."""
    issued_at = int(time.time() if now is None else now)
    return {
        "exp": issued_at + ttl,
        "eject_at_room_exp": True,
        "enable_prejoin_ui": True,
        "enable_network_ui": True,
        "enable_screenshare": True,
        "enable_chat": True,
        "max_participants": settings.max_participants,
    }


def public_room(room: dict[str, Any], exp: int) -> dict[str, Any]:
    """The small shape the page needs, checked rather than passed through."""
    name, url = room.get("name"), room.get("url")
    if not isinstance(name, str) or not isinstance(url, str) or not url.startswith("https://"):
        raise UpstreamError()
    config = room.get("config")
    room_exp = config.get("exp") if isinstance(config, dict) else None
    return {"name": name, "url": url, "exp": room_exp if isinstance(room_exp, int) else exp}
