"""Pure logic of the shared package: settings, request bodies, room properties, names, the check
of Daily's answer, owner tokens and secret values."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re

import pytest

from daily_rooms.create_request import requested_ttl
from daily_rooms.errors import InvalidRequest, UpstreamError
from daily_rooms.rooms import (
    checked_room,
    derived_name,
    new_room_name,
    owner_token,
    room_properties,
)
from daily_rooms.settings import DAILY_API_URL, Settings
from daily_rooms.stored_secrets import DailyKey, parse_daily_key


@pytest.fixture
def settings(monkeypatch: pytest.MonkeyPatch) -> Settings:
    for name in ("DAILY_API_URL", "ROOM_TTL_SECONDS", "MAX_ROOM_TTL_SECONDS", "MAX_PARTICIPANTS"):
        monkeypatch.delenv(name, raising=False)
    return Settings.from_env()


def test_defaults(settings: Settings):
    assert settings.daily_api_url == DAILY_API_URL == "https://api.daily.co/v1"
    assert (settings.room_ttl, settings.max_room_ttl, settings.max_participants) == (300, 3600, 10)
    assert settings.request_deadline < 10 - 1.5  # inside the function's timeout, with a margin


def test_environment_overrides(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("DAILY_API_URL", "http://127.0.0.1:9/v1/")
    monkeypatch.setenv("MAX_PARTICIPANTS", "4")
    monkeypatch.setenv("ALLOWED_ORIGINS", " https://A.example/ ,https://b.example,")

    settings = Settings.from_env()

    assert (settings.daily_api_url, settings.max_participants) == ("http://127.0.0.1:9/v1", 4)
    assert settings.allowed_origins == {"https://a.example", "https://b.example"}


@pytest.mark.parametrize(
    ("body", "ttl"),
    [
        ("", 300),
        ("  ", 300),
        ("{}", 300),
        ('{"ttl_seconds": 60}', 60),
        ('{"ttl_seconds": 3600}', 3600),
    ],
)
def test_accepted_bodies(settings: Settings, body: str, ttl: int):
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
        ('{"privacy": "private"}', "may only hold ttl_seconds"),
    ],
)
def test_rejected_bodies_say_what_is_wrong(settings: Settings, body: str, says: str):
    with pytest.raises(InvalidRequest, match=re.escape(says)):
        requested_ttl(body, settings)


@pytest.mark.parametrize("depth", [2_000, 10_000])
@pytest.mark.parametrize("opening", ["[", '{"a":'])
def test_deeply_nested_bodies_are_invalid_json_not_a_crash(
    settings: Settings, depth: int, opening: str
):
    """json raises RecursionError, not ValueError, on deep nesting (from about 1,000 levels on
    Python 3.11 and 3.12, 10,000 on 3.13): it is still a 400."""
    with pytest.raises(InvalidRequest, match="not valid JSON"):
        requested_ttl(opening * depth, settings)


def test_unknown_field_names_are_not_echoed(settings: Settings):
    """The caller's own text (up to 2 KB of field names) never comes back in the message."""
    body = json.dumps({"<script>alert(1)</script>": 1, "x" * 1500: 2})
    with pytest.raises(InvalidRequest) as refused:
        requested_ttl(body, settings)

    assert refused.value.message == "The request body may only hold ttl_seconds."


def test_properties_carry_the_given_exp(settings: Settings):
    properties = room_properties(1_600, settings)

    assert properties["exp"] == 1_600
    assert properties["eject_at_room_exp"] is True
    assert properties["max_participants"] == 10


def test_room_names_are_random_url_safe_and_long():
    names = [new_room_name() for _ in range(1000)]

    assert len(set(names)) == 1000
    assert all(re.fullmatch(r"[A-Za-z0-9_-]{22}", name) for name in names)


def test_derived_names_are_stable_128_bit_and_depend_on_every_part_and_the_secret():
    name = derived_name(b"secret", "room", "192.0.2.1", "key-1234", 300)
    variants = [
        derived_name(b"secret", "room", "192.0.2.2", "key-1234", 300),
        derived_name(b"secret", "room", "192.0.2.1", "key-1235", 300),
        derived_name(b"secret", "room", "192.0.2.1", "key-1234", 301),
        derived_name(b"secreT", "room", "192.0.2.1", "key-1234", 300),
        derived_name(b"secret", "key", "192.0.2.1", "key-1234", 300),
        derived_name(b"secret", "room", "192.0.2.1key-1234", "", 300),  # no ambiguous joins
    ]

    assert name == derived_name(b"secret", "room", "192.0.2.1", "key-1234", 300)
    assert re.fullmatch(r"[A-Za-z0-9_-]{22}", name)
    assert len(base64.urlsafe_b64decode(name + "==")) * 8 == 128
    assert name not in variants
    assert len(set(variants)) == len(variants)


ROOM = {
    "id": "x",
    "name": "n",
    "url": "https://team.daily.co/n",
    "config": {"exp": 5, "eject_at_room_exp": True},
    "privacy": "public",
}


def test_checked_room_keeps_only_what_the_page_needs():
    assert checked_room(ROOM, "n", 5, "team") == {
        "name": "n",
        "url": "https://team.daily.co/n",
        "exp": 5,
    }


@pytest.mark.parametrize(
    "change",
    [
        {"name": "m"},
        {"url": "https://team.daily.co/m"},
        {"url": "https://team.daily.co/n/"},
        {"url": "https://other.daily.co/n"},
        {"url": "https://team.daily.co.evil.example/n"},
        {"url": "javascript:alert(1)"},
        {"url": None},
        {"config": {"exp": 6}},
        {"config": {"exp": True}},
        {"config": {"exp": 5.0}},
        {"config": {}},
        {"config": None},
    ],
)
def test_checked_room_refuses_any_other_room(change: dict):
    with pytest.raises(UpstreamError):
        checked_room({**ROOM, **change}, "n", 5, "team")


def test_owner_token_is_an_hs256_jwt_with_dailys_claims():
    token = owner_token("the-key", "domain-id", "room-1", 2_000, 1_000)
    header, payload, signature = token.split(".")
    expected = hmac.new(b"the-key", f"{header}.{payload}".encode(), hashlib.sha256).digest()

    assert base64.urlsafe_b64decode(signature + "==") == expected
    assert json.loads(base64.urlsafe_b64decode(header + "==")) == {"alg": "HS256", "typ": "JWT"}
    claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
    assert claims == {"r": "room-1", "o": True, "exp": 2_000, "iat": 1_000, "d": "domain-id"}
    assert "=" not in token


@pytest.mark.parametrize(
    ("value", "key"),
    [
        ('{"apiKey": "abc"}', DailyKey("abc")),
        ('{"apiKey": " abc \\n"}', DailyKey("abc")),
        ('{"apiKey": "a", "domainId": "i", "domainName": "n"}', DailyKey("a", "i", "n")),
        ('{"apiKey": "a", "domainId": 5}', DailyKey("a")),
        ("plain-key\n", DailyKey("plain-key")),
        ('{"apiKey": ""}', DailyKey("")),
        ('{"apiKey": 5}', DailyKey("")),
        ('{"other": "x"}', DailyKey("")),
        ("{broken", DailyKey("")),
        ("", DailyKey("")),
        (None, DailyKey("")),
    ],
)
def test_parse_daily_key(value, key: DailyKey):
    assert parse_daily_key(value) == key
