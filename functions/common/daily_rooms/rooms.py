"""What a new room is: its server-chosen name, its Daily properties, the answer the page gets
(checked against what was asked for) and the creator's self-signed owner token."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from typing import Any

from daily_rooms.errors import UpstreamError
from daily_rooms.settings import Settings
from daily_rooms.telemetry import logger

NAME_BYTES = 16  # 128 bits, 22 URL-safe characters


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def new_room_name() -> str:
    """A random, URL-safe, unguessable name (128 bits from `secrets`), valid for Daily."""
    return secrets.token_urlsafe(NAME_BYTES)


def derived_name(secret: bytes, *parts: str | int) -> str:
    """A name as unguessable as a random one, but the same for the same parts: the first 128
    bits of HMAC-SHA256 under a server-side secret, URL-safe."""
    digest = hmac.new(secret, json.dumps(parts).encode(), hashlib.sha256).digest()
    return _b64url(digest[:NAME_BYTES])


def room_properties(exp: int, settings: Settings) -> dict[str, Any]:
    """The Daily properties of a new room that ends at `exp` (whole seconds)."""
    return {
        "exp": exp,
        "eject_at_room_exp": True,
        "enable_prejoin_ui": True,
        "enable_network_ui": True,
        "enable_screenshare": True,
        "enable_chat": True,
        "max_participants": settings.max_participants,
    }


def checked_room(room: dict[str, Any], name: str, exp: int, domain: str) -> dict[str, Any]:
    """The page's `{name, url, exp}` once Daily's room is exactly the one asked for.

    Anything else (another name, a URL on another host, another `exp`) is logged and refused:
    neither its URL nor a token for it reaches the page.
    """
    url = f"https://{domain}.daily.co/{name}"
    config = room.get("config")
    room_exp = config.get("exp") if isinstance(config, dict) else None
    answered = (room.get("name"), room.get("url"), room_exp if type(room_exp) is int else None)
    if answered != (name, url, exp):
        logger.error(
            "Daily answered with another room than the one asked for",
            extra={"expected": [name, url, exp], "answered": list(answered)},
        )
        raise UpstreamError()
    return {"name": name, "url": url, "exp": exp}


def owner_token(api_key: str, domain_id: str, room: str, exp: int, now: int) -> str:
    """A meeting token, self-signed as Daily documents (HS256 JWT under the API key), that makes
    its holder owner of this room only, until the room ends."""
    header = {"alg": "HS256", "typ": "JWT"}
    claims = {"r": room, "o": True, "exp": exp, "iat": now, "d": domain_id}
    signing_input = ".".join(
        _b64url(json.dumps(part, separators=(",", ":")).encode()) for part in (header, claims)
    )
    signature = hmac.new(api_key.encode(), signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{_b64url(signature)}"
