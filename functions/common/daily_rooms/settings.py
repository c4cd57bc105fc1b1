"""Function settings, read once per container from the environment the template sets."""

from __future__ import annotations

import os
from dataclasses import dataclass

DAILY_API_URL = "https://api.daily.co/v1"


def _int(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    return int(raw) if raw else default


def _float(name: str, default: float) -> float:
    raw = os.environ.get(name, "").strip()
    return float(raw) if raw else default


def _true(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() == "true"


def origins(listed: str) -> frozenset[str]:
    """Comma-separated web origins, compared as browsers send them (no trailing slash)."""
    return frozenset(o.strip().rstrip("/").lower() for o in listed.split(",") if o.strip())


@dataclass(frozen=True)
class Settings:
    daily_api_url: str
    api_key_secret: str
    secret_max_age: int
    room_ttl: int
    min_room_ttl: int
    max_room_ttl: int
    max_participants: int
    connect_timeout: float
    read_timeout: float
    request_deadline: float
    state_table: str
    viewer_limit: int
    prefix_limit: int
    viewer_window: int
    daily_cap: int
    owner_tokens: bool
    origin_verify_secret: str
    # Only for local runs, which have no CloudFront: without an origin-verify secret, answer
    # requests anyway (the template never sets it; deployed, a missing secret refuses them).
    local_only_skip_origin_verify: bool
    room_naming_secret: str
    allowed_origins: frozenset[str]

    @classmethod
    def from_env(cls) -> Settings:
        """Build settings from the environment, with the documented defaults."""
        max_ttl = _int("MAX_ROOM_TTL_SECONDS", 3600)
        return cls(
            daily_api_url=os.environ.get("DAILY_API_URL", "").strip().rstrip("/") or DAILY_API_URL,
            api_key_secret=os.environ.get("DAILY_API_KEY_SECRET", "").strip(),
            secret_max_age=_int("SECRET_MAX_AGE_SECONDS", 300),
            room_ttl=min(_int("ROOM_TTL_SECONDS", 300), max_ttl),
            min_room_ttl=_int("MIN_ROOM_TTL_SECONDS", 60),
            max_room_ttl=max_ttl,
            max_participants=_int("MAX_PARTICIPANTS", 10),
            connect_timeout=_float("DAILY_CONNECT_TIMEOUT_SECONDS", 2.0),
            read_timeout=_float("DAILY_READ_TIMEOUT_SECONDS", 4.0),
            request_deadline=_float("REQUEST_DEADLINE_SECONDS", 7.0),
            state_table=os.environ.get("STATE_TABLE", "").strip(),
            viewer_limit=_int("VIEWER_ROOM_LIMIT", 5),
            prefix_limit=_int("IPV6_PREFIX_ROOM_LIMIT", 20),
            viewer_window=_int("VIEWER_WINDOW_SECONDS", 600),
            daily_cap=_int("DAILY_ROOM_CAP", 500),
            owner_tokens=os.environ.get("OWNER_TOKENS", "true").strip().lower() == "true",
            origin_verify_secret=os.environ.get("ORIGIN_VERIFY_SECRET", "").strip(),
            local_only_skip_origin_verify=_true("LOCAL_ONLY_SKIP_ORIGIN_VERIFY"),
            room_naming_secret=os.environ.get("ROOM_NAMING_SECRET", "").strip(),
            allowed_origins=origins(os.environ.get("ALLOWED_ORIGINS", "")),
        )
