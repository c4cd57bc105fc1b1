"""Requests shaped like real clients send them, replayed; answers parsed with strict schemas.

The shapes are written from what each client documents or shows, not copied:
- pipecat's Daily REST helper (Daily's own Python code): a privacy, `exp` from `time.time()`
  (a float), and its model's defaults for chat, prejoin, emoji reactions, eject and video;
  its token call sends `room_name`, `is_owner`, an integer `exp` and `eject_at_token_exp`.
- Daily's demo apps (huggingface daily-co spaces): a token `exp` of `time.time() + 600`.
- Daily's basic-embed example: integer `exp` with eject, prejoin, network UI, screenshare, chat.
- the create-room reference's two examples, and this project's own create path.
The schemas come from the one property list: no field outside the documented shape passes.
"""

from __future__ import annotations

import re
from typing import Any

import jsonschema
import pytest

from daily_rooms.rooms import room_properties
from daily_rooms.settings import Settings
from localdev.daily_reference import KIND_TYPES, ROOM_PROPERTIES, TOKEN_PROPERTIES
from tests.helpers.daily import Client, FakeClock

UUID = r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$"


def closed(properties: dict[str, Any], required: tuple[str, ...] = ()) -> dict[str, Any]:
    """An object schema that admits only these fields."""
    return {
        "type": "object",
        "additionalProperties": False,
        "required": list(required),
        "properties": properties,
    }


CONFIG = closed({prop.name: {"type": KIND_TYPES[prop.kind]} for prop in ROOM_PROPERTIES})
ROOM = closed(
    {
        "id": {"type": "string", "pattern": UUID},
        "name": {"type": "string", "pattern": r"^[A-Za-z0-9_-]{1,128}$"},
        "api_created": {"type": "boolean"},
        "privacy": {"enum": ["public", "private"]},
        "url": {"type": "string", "pattern": r"^https://acme\.daily\.co/[A-Za-z0-9_-]+$"},
        "created_at": {"type": "string", "pattern": r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$"},
        "config": CONFIG,
    },
    ("id", "name", "api_created", "privacy", "url", "created_at", "config"),
)
TOKEN = closed({"token": {"type": "string", "pattern": r"^[\w-]+\.[\w-]+\.[\w-]+$"}}, ("token",))
VALIDATED = closed({prop.name: {"type": KIND_TYPES[prop.kind]} for prop in TOKEN_PROPERTIES})
DELETED = closed({"deleted": {"const": True}, "name": {"type": "string"}}, ("deleted", "name"))


def parsed(response, schema: dict[str, Any]) -> dict[str, Any]:
    """The answer's JSON after checking it against `schema` (200 only)."""
    assert response.status_code == 200, response.text
    body = response.json()
    jsonschema.validate(body, schema)
    return body


def create(api: Client, body: dict[str, Any]) -> dict[str, Any]:
    room = parsed(api("POST", "/rooms", json=body), ROOM)
    assert room["url"].endswith("/" + room["name"])
    return room


def test_pipecat_shaped_room_and_token(api: Client, clock: FakeClock) -> None:
    exp = clock.now + 300.3741
    body = {
        "privacy": "public",
        "properties": {
            "exp": exp,
            "enable_chat": False,
            "enable_prejoin_ui": False,
            "enable_emoji_reactions": False,
            "eject_at_room_exp": False,
            "start_video_off": False,
        },
    }
    room = create(api, body)
    # enable_prejoin_ui and enable_emoji_reactions have no documented default: they show.
    assert room["config"] == {
        "exp": exp,
        "enable_prejoin_ui": False,
        "enable_emoji_reactions": False,
    }
    assert parsed(api("GET", f"/rooms/{room['name']}"), ROOM) == room

    token_properties = {
        "room_name": room["name"],
        "is_owner": True,
        "exp": int(clock.now + 3600),
        "eject_at_token_exp": False,
    }
    token = parsed(api("POST", "/meeting-tokens", json={"properties": token_properties}), TOKEN)
    validated = parsed(api("GET", f"/meeting-tokens/{token['token']}"), VALIDATED)
    assert validated == token_properties
    assert parsed(api("DELETE", f"/rooms/{room['name']}"), DELETED)["name"] == room["name"]
    assert api("DELETE", f"/rooms/{room['name']}").status_code == 404  # pipecat accepts 404


def test_demo_token_with_a_float_exp(api: Client, clock: FakeClock) -> None:
    properties = {"room_name": "demo", "is_owner": True, "exp": clock.now + 600.25}
    token = parsed(api("POST", "/meeting-tokens", json={"properties": properties}), TOKEN)
    assert parsed(api("GET", f"/meeting-tokens/{token['token']}"), VALIDATED) == properties


def test_basic_embed_shaped_room(api: Client, clock: FakeClock) -> None:
    properties = {
        "enable_prejoin_ui": True,
        "enable_network_ui": True,
        "enable_screenshare": True,
        "enable_chat": True,
        "exp": round(clock.now) + 300,
        "eject_at_room_exp": True,
    }
    room = create(api, {"properties": properties})
    assert re.fullmatch(r"[A-Za-z]+", room["name"])  # a random name
    assert room["config"] == {k: v for k, v in properties.items() if k != "enable_screenshare"}


@pytest.mark.parametrize(
    ("body", "config"),
    [
        ({"properties": {"exp": 1_700_003_600}}, {"exp": 1_700_003_600}),
        (
            {
                "name": "getting-started-webinars",
                "privacy": "private",
                "properties": {"start_audio_off": True, "start_video_off": True},
            },
            {"start_audio_off": True, "start_video_off": True},
        ),
    ],
    ids=["expiring-room", "private-webinar"],
)
def test_create_room_reference_examples(
    api: Client, clock: FakeClock, body: dict, config: dict
) -> None:
    room = create(api, body)
    assert room["config"] == config
    assert room["privacy"] == body.get("privacy", "public")


def test_this_projects_create_request(api: Client, clock: FakeClock) -> None:
    settings = Settings.from_env()
    properties = room_properties(int(clock.now) + 600, settings)
    room = create(api, {"name": "our-room", "properties": properties})
    assert room["config"]["exp"] == properties["exp"]
    assert parsed(api("GET", "/rooms/our-room"), ROOM) == room
