"""The create-room flow: key, domain, one quota write, one Daily room, a self-signed owner token."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, TypeVar

from daily_rooms.create_request import CreateRequest
from daily_rooms.daily_client import Budget, DailyClient, Domain
from daily_rooms.deadline import Deadline
from daily_rooms.errors import UpstreamAuth
from daily_rooms.quota import Marker, Quota
from daily_rooms.rooms import (
    checked_room,
    derived_name,
    new_room_name,
    owner_token,
    room_properties,
)
from daily_rooms.settings import Settings
from daily_rooms.stored_secrets import DailyKey, StoredSecrets
from daily_rooms.telemetry import logger

T = TypeVar("T")


class RoomCreator:
    def __init__(
        self,
        settings: Settings,
        secrets: StoredSecrets,
        quota: Quota,
        daily: DailyClient,
        clock: Callable[[], float] = time.time,
    ):
        self.settings = settings
        self.secrets = secrets
        self.quota = quota
        self.daily = daily
        self.clock = clock  # the time rooms end at and limits count in: epoch seconds

    def _with_rotation(self, key: DailyKey, call: Callable[[DailyKey], T]) -> tuple[DailyKey, T]:
        """Run `call(key)`; on an auth failure re-read the secret once and, if it changed, retry."""
        try:
            return key, call(key)
        except UpstreamAuth:
            fresh = self.secrets.daily_key(refresh=True)
            if fresh.api_key == key.api_key:
                raise
            logger.info("The Daily API key changed: retrying once with the new one")
            return fresh, call(fresh)

    def _marker(self, request: CreateRequest) -> Marker | None:
        """With an Idempotency-Key, its marker: the id is derived from the viewer and the key."""
        if request.idempotency_key is None:
            return None
        parts = (request.viewer.address, request.idempotency_key)
        marker_id = derived_name(self.secrets.naming_key(), "key", *parts)
        return Marker(f"key#{marker_id}", request.ttl)

    def _name(self, request: CreateRequest, exp: int) -> str:
        """A random name, or with an Idempotency-Key one derived from the viewer, the key and the
        room's `exp`, which the key's marker keeps: every retry of the request names the same
        room, and the key used again once its marker is gone names a new one."""
        if request.idempotency_key is None:
            return new_room_name()
        parts = (request.viewer.address, request.idempotency_key, exp)
        return derived_name(self.secrets.naming_key(), "room", *parts)

    def _room(
        self, key: DailyKey, name: str, properties: dict[str, Any], budget: Budget
    ) -> tuple[Domain, dict[str, Any]]:
        domain = self.daily.domain(key, budget)  # known, unless the key has just changed
        return domain, self.daily.create_room(key.api_key, name, properties, budget)

    def create(self, request: CreateRequest, deadline: Deadline) -> dict[str, Any]:
        """Create one room for the request's viewer and answer `{name, url, exp, ownerToken}`."""
        budget = Budget(deadline)
        key = self.secrets.daily_key()  # not configured: refuse before any quota is spent
        # The domain (cached per key) is known before quota is spent: a wrong key spends none.
        key, _ = self._with_rotation(key, lambda k: self.daily.domain(k, budget))
        now = int(self.clock())
        marker = self._marker(request)
        exp = self.quota.spend(request.viewer, marker, now + request.ttl, deadline, now)
        name = self._name(request, exp)
        properties = room_properties(exp, self.settings)
        key, (domain, room) = self._with_rotation(
            key, lambda k: self._room(k, name, properties, budget)
        )
        body = checked_room(room, name, exp, domain.name)
        if self.settings.owner_tokens:
            body["ownerToken"] = owner_token(key.api_key, domain.id, name, exp, now)
        return body
