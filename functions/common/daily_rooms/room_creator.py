"""The create-room flow: key, quota, Daily room (with one retry after a key rotation), token."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from aws_lambda_powertools import Logger

from daily_rooms.daily_client import DailyClient, Deadline
from daily_rooms.errors import ApiError, UpstreamAuth
from daily_rooms.rate_limiter import RateLimiter
from daily_rooms.rooms import new_room_name, public_room, room_properties
from daily_rooms.settings import Settings
from daily_rooms.stored_secrets import ApiKeySource

logger = Logger(child=True)
T = TypeVar("T")


class RoomCreator:
    def __init__(
        self, settings: Settings, daily: DailyClient, api_key: ApiKeySource, limiter: RateLimiter
    ):
        self.settings = settings
        self.daily = daily
        self.api_key = api_key
        self.limiter = limiter

    def _with_rotation(self, key: str, call: Callable[[str], T]) -> tuple[T, str]:
        """Run `call(key)`; on an auth failure re-read the secret once and, if it changed, retry."""
        try:
            return call(key), key
        except UpstreamAuth:
            fresh = self.api_key.get(refresh=True)
            if fresh == key:
                raise
            logger.info("The Daily API key changed: retrying once with the new one")
            return call(fresh), fresh

    def create(self, viewer: str, ttl: int, deadline: Deadline) -> dict[str, Any]:
        """Create one room for `viewer` and answer its public shape (with an owner token)."""
        key = self.api_key.get()  # not configured: refuse before the viewer's quota is counted
        self.limiter.consume(viewer)
        properties = room_properties(ttl, self.settings)
        name = new_room_name()
        room, key = self._with_rotation(
            key, lambda k: self.daily.create_room(k, name, properties, deadline)
        )
        body = public_room(room, properties["exp"])
        if self.settings.owner_tokens:
            try:
                body["ownerToken"] = self.daily.owner_token(
                    key, body["name"], body["exp"], deadline
                )
            except ApiError as error:
                logger.warning("Room created without an owner token", extra={"error": error.code})
        return body
