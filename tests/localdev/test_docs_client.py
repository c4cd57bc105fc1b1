"""A client written only from Daily's REST docs, run unchanged against the emulator's command line.

Nothing here comes from the emulator or its property list: the client knows what
docs.daily.co says (https://api.daily.co/v1 + path, `Authorization: Bearer KEY`, JSON bodies,
the room object, `{error, info}` on failure, `exp` in unix seconds, the documented defaults).
"""

from __future__ import annotations

import re
import secrets
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from tests.helpers import ROOT, start_in_foreground

# create-room: the properties whose default the reference states.
DOCUMENTED_ROOM_DEFAULTS = {
    "max_participants": 200,
    "enable_screenshare": True,
    "enable_video_processing_ui": True,
    "enable_chat": False,
    "enable_shared_chat_history": True,
    "start_video_off": False,
    "start_audio_off": False,
    "owner_only_broadcast": False,
    "eject_at_room_exp": False,
    "enable_advanced_chat": False,
    "enable_hidden_participants": False,
    "sfu_switchover": 0.5,
    "enable_adaptive_simulcast": True,
    "enable_multiparty_adaptive_simulcast": False,
    "enforce_unique_user_ids": False,
    "lang": "en",
    "disable_rtmp_geo_fallback": False,
    "enable_terse_logging": False,
    "enable_transcription_storage": False,
}
ROOM_FIELDS = {"id", "name", "api_created", "privacy", "url", "created_at", "config"}
CREATED_AT = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")


class DailyError(Exception):
    """A failed call: the HTTP status and Daily's `error` and `info`."""

    def __init__(self, status: int, body: dict[str, Any]) -> None:
        super().__init__(f"{status} {body}")
        self.status = status
        self.error = body.get("error")
        self.info = body.get("info")


class DailyRestClient:
    """The REST calls of docs.daily.co/reference/rest-api that a room's lifecycle needs."""

    def __init__(self, api_key: str, base_url: str = "https://api.daily.co/v1") -> None:
        self.base_url = base_url
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Bearer {api_key}"

    def _call(self, method: str, path: str, **options: Any) -> dict[str, Any]:
        response = self.session.request(method, self.base_url + path, timeout=10, **options)
        if not response.ok:
            raise DailyError(response.status_code, response.json())
        return response.json()

    def create_room(self, **body: Any) -> dict[str, Any]:
        return self._call("POST", "/rooms", json=body)

    def get_room(self, name: str) -> dict[str, Any]:
        return self._call("GET", f"/rooms/{name}")

    def delete_room(self, name: str) -> dict[str, Any]:
        return self._call("DELETE", f"/rooms/{name}")

    def create_meeting_token(self, **properties: Any) -> str:
        return self._call("POST", "/meeting-tokens", json={"properties": properties})["token"]

    def validate_meeting_token(self, token: str, ignore_nbf: bool = False) -> dict[str, Any]:
        query = {"ignoreNbf": "true"} if ignore_nbf else {}
        return self._call("GET", f"/meeting-tokens/{token}", params=query)


@pytest.fixture(scope="module")
def daily() -> Iterator[DailyRestClient]:
    """The client, pointed at `python -m localdev.daily_emulator` in its own process."""
    key = secrets.token_hex(16)
    options = ["--port", "0", "--api-key", key, "--domain", "docs-client"]
    process = start_in_foreground(
        [sys.executable, "-m", "localdev.daily_emulator", *options],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    base_url = process.stdout.readline().split()[-1]
    yield DailyRestClient(key, base_url)
    process.terminate()
    process.wait(timeout=10)


def check_room(room: dict[str, Any], name: str) -> None:
    """The room object as docs.daily.co/reference/rest-api/rooms shows it."""
    assert set(room) == ROOM_FIELDS
    assert str(uuid.UUID(room["id"])) == room["id"]
    assert room["name"] == name
    assert room["api_created"] is True
    assert room["url"] == f"https://docs-client.daily.co/{name}"
    assert CREATED_AT.fullmatch(room["created_at"])


def test_room_lifecycle_with_float_exp_and_every_default(daily: DailyRestClient) -> None:
    exp = time.time() + 3600  # a float, as Python clients compute it
    properties = {**DOCUMENTED_ROOM_DEFAULTS, "exp": exp}
    room = daily.create_room(name="docs-room", privacy="public", properties=properties)
    check_room(room, "docs-room")
    assert room["privacy"] == "public"
    assert room["config"] == {"exp": exp}  # only what differs from the defaults

    assert daily.get_room("docs-room") == room

    token = daily.create_meeting_token(room_name="docs-room", is_owner=True, exp=exp)
    assert daily.validate_meeting_token(token) == {
        "room_name": "docs-room",
        "is_owner": True,
        "exp": exp,
    }

    assert daily.delete_room("docs-room") == {"deleted": True, "name": "docs-room"}
    with pytest.raises(DailyError) as missing:
        daily.get_room("docs-room")
    assert (missing.value.status, missing.value.error) == (404, "not-found")


def test_errors_come_as_documented(daily: DailyRestClient) -> None:
    daily.create_room(name="twice")
    with pytest.raises(DailyError) as taken:
        daily.create_room(name="twice")
    assert (taken.value.status, taken.value.error) == (400, "invalid-request-error")
    assert "already exists" in taken.value.info
    with pytest.raises(DailyError) as past:
        daily.create_room(properties={"exp": time.time() - 60})
    assert (past.value.status, past.value.error) == (400, "invalid-request-error")
    anonymous = DailyRestClient("wrong-key", daily.base_url)
    with pytest.raises(DailyError) as refused:
        anonymous.get_room("twice")
    assert (refused.value.status, refused.value.error) == (401, "authentication-error")
