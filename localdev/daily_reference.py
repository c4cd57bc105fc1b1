"""Daily's documented room and meeting-token properties: one list for the emulator and its tests.

Sources (read 2026-11-24):
- https://docs.daily.co/reference/rest-api/rooms/create-room and .../rooms/update-room: the
  `properties` schema of the OpenAPI spec (v1.1.1) behind both pages, as their request examples
  show it; cross-checked with Daily's client generated from that spec (github daily-co/daily-ruby,
  docs/RoomProperties.md and docs/Properties.md) for the types and defaults.
- https://docs.daily.co/docs/guides/features/dial-in-dial-out (`enable_dialout`),
  .../dial-in-dial-out/sip (`sip`) and .../dial-in-dial-out/pstn-pin-dialin (`dialin`): room
  properties the guides document and link to the update-room reference.
- https://docs.daily.co/reference/rest-api/meeting-tokens/create-meeting-token: token properties.
- https://docs.daily.co/reference/rest-api/meeting-tokens/self-signing-tokens: the short claim
  names a token's payload uses (REST-minted tokens use them too: see the decoded example in
  https://docs.daily.co/docs/guides/privacy-and-security/meeting-tokens).

48 room properties, 23 token properties.

Kinds and how Daily accepts them (decisions where the docs are silent, never stricter than Daily):
- `timestamp` (`exp`, `nbf`): the docs say integer unix seconds, but Daily's own Python helper
  (pipecat's daily_rest) and Daily's demos send `time.time() + n`, a JSON float, and Daily accepts
  it; so any JSON number is accepted and kept as sent.
- `integer`: Daily is a JavaScript service, where JSON `10` and `10.0` are the same number; an
  integral float is an integer, a fractional one is refused.
- `boolean`, `string`, `object`, `array`: the JSON type only. String enums (`enable_recording`,
  `geo`, `lang`, ...) are not checked: the lists change more often than the types.
- `null` leaves a property unset; on update it resets it (the docs say so for
  `streaming_endpoints` and `sip`; applied to every property).
- A default in the list is one the docs state; properties without one inherit from the domain,
  so setting them to any value shows in the room's `config`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

UNSET: Any = object()  # no documented default

KIND_TYPES: dict[str, str] = {  # kind -> JSON Schema type
    "boolean": "boolean",
    "integer": "integer",
    "timestamp": "number",
    "number": "number",
    "string": "string",
    "object": "object",
    "array": "array",
}
KIND_DESCRIPTIONS: dict[str, str] = {  # what the error says a value should be
    "boolean": "a boolean",
    "integer": "an integer",
    "timestamp": "a number of seconds since the unix epoch",
    "number": "a number",
    "string": "a string",
    "object": "an object",
    "array": "an array",
}


@dataclass(frozen=True)
class Property:
    """One documented property: its name, kind (see KIND_TYPES), documented default and example."""

    name: str
    kind: str
    default: Any = UNSET
    example: Any = None
    claim: str | None = None  # a token property's name inside the JWT payload

    @property
    def has_default(self) -> bool:
        return self.default is not UNSET


def accepts(kind: str, value: Any) -> bool:
    """Whether a JSON value has this kind (booleans are never numbers)."""
    if isinstance(value, bool):
        return kind == "boolean"
    if kind in ("timestamp", "number"):
        return isinstance(value, int | float)
    if kind == "integer":
        return isinstance(value, int) or (isinstance(value, float) and value.is_integer())
    python_types: dict[str, type] = {"string": str, "object": dict, "array": list}
    return kind in python_types and isinstance(value, python_types[kind])


def shown(value: Any) -> str:
    """A value as Daily's error texts quote it: strings bare, the rest as JSON."""
    return value if isinstance(value, str) else json.dumps(value)


def _boolean(name: str, default: Any = UNSET) -> Property:
    return Property(name, "boolean", default)


_BUCKET = {
    "bucket_name": "my-daily-recording",
    "bucket_region": "ap-south-1",
    "assume_role_arn": "arn:aws:iam::555555555555:role/DailyS3AccessRole",
    "allow_api_access": True,
}

ROOM_PROPERTIES: tuple[Property, ...] = (
    Property("nbf", "timestamp"),
    Property("exp", "timestamp"),
    Property("max_participants", "integer", 200, example=12),
    _boolean("enable_people_ui"),
    _boolean("enable_cpu_warning_notifications"),
    _boolean("enable_pip_ui"),
    _boolean("enable_emoji_reactions"),
    _boolean("enable_hand_raising"),
    _boolean("enable_prejoin_ui"),
    _boolean("enable_live_captions_ui"),
    _boolean("enable_network_ui"),
    _boolean("enable_noise_cancellation_ui"),
    _boolean("enable_breakout_rooms"),
    _boolean("enable_knocking"),
    _boolean("enable_screenshare", True),
    _boolean("enable_video_processing_ui", True),
    _boolean("enable_chat", False),
    _boolean("enable_shared_chat_history", True),
    _boolean("start_video_off", False),
    _boolean("start_audio_off", False),
    _boolean("owner_only_broadcast", False),
    Property("enable_recording", "string", example="cloud"),
    _boolean("eject_at_room_exp", False),
    Property("eject_after_elapsed", "integer", example=900),
    _boolean("enable_advanced_chat", False),
    _boolean("enable_hidden_participants", False),
    _boolean("enable_mesh_sfu"),
    Property("sfu_switchover", "number", 0.5, example=2),
    _boolean("enable_adaptive_simulcast", True),
    _boolean("enable_multiparty_adaptive_simulcast", False),
    _boolean("enforce_unique_user_ids", False),
    _boolean("experimental_optimize_large_calls"),
    Property("lang", "string", "en", example="fr"),
    Property("meeting_join_hook", "string", example="https://example.com/joined"),
    Property("geo", "string", example="eu-central-1"),
    Property("rtmp_geo", "string", example="us-west-2"),
    _boolean("disable_rtmp_geo_fallback", False),
    Property("recordings_bucket", "object", example=_BUCKET),
    _boolean("enable_terse_logging", False),
    Property("auto_transcription_settings", "object", example={"language": "de"}),
    _boolean("enable_transcription_storage", False),
    Property("transcription_bucket", "object", example=_BUCKET),
    Property("recordings_template", "string", example="{room_name}/{epoch_time}.mp4"),
    Property(
        "streaming_endpoints",
        "array",
        example=[{"name": "rtmp_youtube", "type": "rtmp", "rtmp_config": {"url": "rtmps://x/s"}}],
    ),
    Property("permissions", "object", example={"hasPresence": True, "canSend": ["audio"]}),
    Property("sip", "object", example={"display_name": "SIP Participant", "sip_mode": "dial-in"}),
    Property("dialin", "object", example={"display_name": "Phone", "wait_for_meeting_start": True}),
    _boolean("enable_dialout"),
)

TOKEN_PROPERTIES: tuple[Property, ...] = (
    Property("room_name", "string", example="team-room", claim="r"),
    Property("eject_at_token_exp", "boolean", False, claim="ejt"),
    Property("eject_after_elapsed", "integer", example=900, claim="eje"),
    Property("nbf", "timestamp", claim="nbf"),
    Property("exp", "timestamp", claim="exp"),
    Property("is_owner", "boolean", False, claim="o"),
    Property("user_name", "string", example="Ada", claim="u"),
    Property("user_id", "string", example="user-1", claim="ud"),
    Property("enable_screenshare", "boolean", True, claim="ss"),
    Property("start_video_off", "boolean", False, claim="vo"),
    Property("start_audio_off", "boolean", False, claim="ao"),
    Property("enable_recording", "string", example="cloud", claim="er"),
    Property("enable_prejoin_ui", "boolean", claim="enable_prejoin_ui"),
    Property("enable_live_captions_ui", "boolean", claim="enable_live_captions_ui"),
    Property("enable_recording_ui", "boolean", claim="erui"),
    Property("enable_terse_logging", "boolean", False, claim="enable_terse_logging"),
    Property("start_cloud_recording", "boolean", False, claim="sr"),
    Property("start_cloud_recording_opts", "object", example={"maxDuration": 60}, claim="sro"),
    Property("auto_start_transcription", "boolean", False, claim="ast"),
    Property("close_tab_on_exit", "boolean", False, claim="ctoe"),
    Property("redirect_on_meeting_exit", "string", example="https://example.com", claim="rome"),
    Property("lang", "string", example="fr", claim="uil"),
    Property("permissions", "object", example={"hasPresence": False}, claim="p"),
)
# Claims the self-signing page lists without a create-meeting-token property of that name.
OTHER_CLAIMS: dict[str, str] = {
    "k": "knocking",
    "ij": "intercom_join_alert",
    "mjh": "meeting_join_hook",
}
# A property without a documented abbreviation keeps its own name in the payload (decision).

ROOMS: dict[str, Property] = {prop.name: prop for prop in ROOM_PROPERTIES}
TOKENS: dict[str, Property] = {prop.name: prop for prop in TOKEN_PROPERTIES}
CLAIM_NAMES: dict[str, str] = {
    **OTHER_CLAIMS,
    **{prop.claim: prop.name for prop in TOKEN_PROPERTIES if prop.claim},
}
ROOM_NAME_MAX = 128  # create-room: "The room name cannot exceed 128 characters"
MAX_PARTICIPANTS = 200  # create-room: "Contact us if you need to set the limit above 200"


def config_of(settings: dict[str, Any]) -> dict[str, Any]:
    """A room's `config`: the set properties whose value differs from the documented default."""
    return {
        name: value
        for name, value in settings.items()
        if value is not None and not (ROOMS[name].has_default and value == ROOMS[name].default)
    }
