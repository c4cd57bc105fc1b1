"""Pure logic of the shared package: request bodies, room properties, names, secret values."""

from __future__ import annotations

import re

import pytest

from daily_rooms.errors import InvalidRequest, UpstreamError
from daily_rooms.rooms import (
    MAX_BODY_BYTES,
    new_room_name,
    public_room,
    requested_ttl,
    room_properties,
)
from daily_rooms.settings import DAILY_API_URL, Settings
from daily_rooms.stored_secrets import parse_api_key


@pytest.fixture
def settings(monkeypatch: pytest.MonkeyPatch) -> Settings:
    for name in ("DAILY_API_URL", "ROOM_TTL_SECONDS", "MAX_ROOM_TTL_SECONDS", "MAX_PARTICIPANTS"):
        monkeypatch.delenv(name, raising=False)
    return Settings.from_env()


def test_defaults(settings: Settings):
    assert settings.daily_api_url == DAILY_API_URL == "https://api.daily.co/v1"
    assert (settings.room_ttl, settings.max_room_ttl, settings.max_participants) == (300, 3600, 10)


def test_environment_overrides(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("DAILY_API_URL", "http://127.0.0.1:9/v1/")
    monkeypatch.setenv("MAX_PARTICIPANTS", "4")

    settings = Settings.from_env()

    assert (settings.daily_api_url, settings.max_participants) == ("http://127.0.0.1:9/v1", 4)


@pytest.mark.parametrize(
    ("body", "ttl"),
    [
        (None, 300),
        ("", 300),
        ("  ", 300),
        ("{}", 300),
        ('{"ttl_seconds": 60}', 60),
        ('{"ttl_seconds": 3600}', 3600),
    ],
)
def test_accepted_bodies(settings: Settings, body: str | None, ttl: int):
    assert requested_ttl(body, settings) == ttl


@pytest.mark.parametrize(
    ("body", "says"),
    [
        ("{", "not valid JSON"),
        ("null", "JSON object"),
        ('"text"', "JSON object"),
        ('{"ttl_seconds": 59}', "from 60 to 3600"),
        ('{"ttl_seconds": 3601}', "from 60 to 3600"),
        ('{"ttl_seconds": 600.0}', "whole number"),
        ('{"ttl_seconds": false}', "whole number"),
        ('{"ttl_seconds": null}', "whole number"),
        ('{"privacy": "private"}', "Unknown field(s): privacy"),
        ('{"ttl_seconds": 60, "pad": "' + "x" * MAX_BODY_BYTES + '"}', "larger than"),
    ],
)
def test_rejected_bodies_say_what_is_wrong(settings: Settings, body: str, says: str):
    with pytest.raises(InvalidRequest, match=re.escape(says)):
        requested_ttl(body, settings)


def test_properties_have_integer_exp_from_now(settings: Settings):
    properties = room_properties(600, settings, now=1_000.9)

    assert properties["exp"] == 1_600
    assert properties["eject_at_room_exp"] is True
    assert properties["max_participants"] == 10


def test_room_names_are_random_url_safe_and_long():
    names = [new_room_name() for _ in range(1000)]

    assert len(set(names)) == 1000
    assert all(re.fullmatch(r"[A-Za-z0-9_-]{22}", name) for name in names)


def test_public_room_keeps_only_what_the_page_needs():
    room = {
        "id": "x",
        "name": "n",
        "url": "https://d.daily.co/n",
        "config": {"exp": 5},
        "privacy": "public",
    }

    assert public_room(room, 9) == {"name": "n", "url": "https://d.daily.co/n", "exp": 5}


@pytest.mark.parametrize("room", [{}, {"name": "n"}, {"name": "n", "url": "javascript:alert(1)"}])
def test_public_room_refuses_a_room_object_without_a_usable_url(room: dict):
    with pytest.raises(UpstreamError):
        public_room(room, 9)


@pytest.mark.parametrize(
    ("value", "key"),
    [
        ('{"apiKey": "abc"}', "abc"),
        ('{"apiKey": " abc \\n"}', "abc"),
        ("plain-key\n", "plain-key"),
        (b'{"apiKey": "b"}', "b"),
        ('{"apiKey": ""}', ""),
        ('{"apiKey": 5}', ""),
        ('{"other": "x"}', ""),
        ("{broken", ""),
        ("", ""),
        (None, ""),
    ],
)
def test_parse_api_key(value, key: str):
    assert parse_api_key(value) == key
