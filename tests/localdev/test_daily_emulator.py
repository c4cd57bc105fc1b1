"""Tests of the Daily REST API emulator over real HTTP (property table: test_conformance.py)."""

import base64
import hashlib
import hmac
import re
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
import requests

from localdev.daily_emulator import DailyEmulator, RateLimit, RateLimits
from tests.helpers import start_in_foreground
from tests.localdev.support import (
    KEY,
    START,
    Client,
    FakeClock,
    assert_error,
    decode_segment,
)

ROOT = Path(__file__).resolve().parents[2]


# --- lifecycle -------------------------------------------------------------------------------


def test_base_url_points_at_v1_on_the_bound_port(emulator: DailyEmulator) -> None:
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+/v1", emulator.base_url)
    assert emulator.api_key == KEY
    assert emulator.domain == "acme"


def test_stop_closes_the_port() -> None:
    with DailyEmulator() as daily:
        url = daily.base_url
        assert requests.get(url + "/rooms", timeout=5).status_code == 400
    with pytest.raises(requests.ConnectionError):
        requests.get(url + "/rooms", timeout=5)


def test_command_line_serves_until_interrupted() -> None:
    options = ["--port", "0", "--api-key", "K", "--domain", "cli"]
    process = start_in_foreground(
        [sys.executable, "-m", "localdev.daily_emulator", *options],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        base_url = process.stdout.readline().split()[-1]
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+/v1", base_url)
        room = requests.post(
            base_url + "/rooms",
            json={"name": "x"},
            headers={"Authorization": "Bearer K"},
            timeout=5,
        )
        assert room.json()["url"] == "https://cli.daily.co/x"
        process.send_signal(signal.SIGINT)
        stdout, stderr = process.communicate(timeout=10)
    finally:
        process.kill()
    assert process.returncode == 0
    assert "stopped" in stdout
    assert stderr == ""  # no per-request access log


# --- auth ------------------------------------------------------------------------------------

ENDPOINTS = [
    ("GET", "/"),
    ("GET", "/meeting-tokens/some-token"),
    ("GET", "/rooms"),
    ("POST", "/rooms"),
    ("GET", "/rooms/some-room"),
    ("POST", "/rooms/some-room"),
    ("DELETE", "/rooms/some-room"),
    ("POST", "/meeting-tokens"),
    ("GET", "/no-such-endpoint"),
]


@pytest.mark.parametrize(("method", "path"), ENDPOINTS)
def test_missing_authorization_header_is_400(api: Client, method: str, path: str) -> None:
    assert_error(api(method, path, key=None), 400, "authorization-header-error", "missing")


@pytest.mark.parametrize(("method", "path"), ENDPOINTS)
@pytest.mark.parametrize("header", ["Basic dGVzdA==", "Bearer", "Bearer ", f"bearer {KEY}", KEY])
def test_malformed_authorization_header_is_400(
    api: Client, method: str, path: str, header: str
) -> None:
    response = api(method, path, key=None, headers={"Authorization": header})
    assert_error(response, 400, "authorization-header-error", "format")


@pytest.mark.parametrize(("method", "path"), ENDPOINTS)
def test_wrong_key_is_401(api: Client, emulator: DailyEmulator, method: str, path: str) -> None:
    assert_error(api(method, path, key="other-key"), 401, "authentication-error")
    assert emulator.rooms == {}


# --- POST /rooms -----------------------------------------------------------------------------


def test_create_room_without_body_gets_random_name_and_defaults(
    api: Client, emulator: DailyEmulator
) -> None:
    response = api("POST", "/rooms")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json"
    room = response.json()
    assert re.fullmatch(r"[A-Za-z]{20}", room["name"])
    assert uuid.UUID(room["id"]).version == 4
    assert room["api_created"] is True
    assert room["privacy"] == "public"
    assert room["url"] == f"https://acme.daily.co/{room['name']}"
    assert room["created_at"] == "2023-11-14T22:13:20.000Z"
    assert room["config"] == {}
    assert emulator.rooms == {room["name"]: room}


def test_null_fields_are_left_unset(api: Client) -> None:
    room = api("POST", "/rooms", json={"name": None, "privacy": None, "properties": None}).json()
    assert (room["privacy"], room["config"]) == ("public", {})
    token = api("POST", "/meeting-tokens", json={"properties": None})
    assert token.status_code == 200


def test_create_room_config_holds_what_differs_from_defaults(api: Client, clock: FakeClock) -> None:
    properties = {
        "exp": int(clock.now) + 300,
        "nbf": int(clock.now),
        "max_participants": 2,
        "enable_prejoin_ui": True,
        "enable_network_ui": True,
        "enable_screenshare": False,
        "enable_chat": True,
        "eject_at_room_exp": True,
        "enable_knocking": False,
        "start_video_off": True,
        "start_audio_off": False,
        "lang": "fr",
    }
    body = {"name": "Team_room-1", "privacy": "private", "properties": properties}
    room = api("POST", "/rooms", json=body).json()
    assert room["name"] == "Team_room-1"
    assert room["privacy"] == "private"
    assert room["url"] == "https://acme.daily.co/Team_room-1"
    defaults = {"start_audio_off"}  # false is its documented default
    assert room["config"] == {k: v for k, v in properties.items() if k not in defaults}


@pytest.mark.parametrize(
    "raw",
    [
        b"{not json",
        b"\xff\xfe",
        b'{"name": "a",}',
        b'{"properties": {"exp": Infinity}}',
        b'{"properties": {"exp": -Infinity}}',
        b'{"properties": {"nbf": NaN}}',
    ],
)
def test_invalid_json_is_json_parsing_error(api: Client, raw: bytes) -> None:
    response = api("POST", "/rooms", data=raw, headers={"Content-Type": "application/json"})
    assert_error(response, 400, "json-parsing-error")


@pytest.mark.parametrize("body", [[], "room", 3])
def test_body_must_be_an_object(api: Client, body: object) -> None:
    assert_error(api("POST", "/rooms", json=body), 400, "invalid-request-error", "JSON object")


@pytest.mark.parametrize(
    ("name", "problem"),
    [
        ("", "non-empty"),
        (7, "name was '7' but should be a non-empty string"),
        ("has space", "has space contains invalid characters"),
        ("dot.name", "invalid characters"),
        ("slash/name", "invalid characters"),
        ("émile", "invalid characters"),
        ("a" * 129, "128"),
    ],
)
def test_invalid_room_names_are_rejected(
    api: Client, emulator: DailyEmulator, name: object, problem: str
) -> None:
    body = assert_error(api("POST", "/rooms", json={"name": name}), 400, "invalid-request-error")
    assert "name" in body["info"]
    assert problem in body["info"]
    assert emulator.rooms == {}


def test_longest_allowed_name_is_accepted(api: Client) -> None:
    assert api("POST", "/rooms", json={"name": "a" * 128}).status_code == 200


def test_taken_name_is_rejected(api: Client, emulator: DailyEmulator) -> None:
    first = api("POST", "/rooms", json={"name": "taken"}).json()
    response = api("POST", "/rooms", json={"name": "taken"})
    assert_error(response, 400, "invalid-request-error", "a room named taken already exists")
    assert emulator.rooms["taken"]["id"] == first["id"]


@pytest.mark.parametrize("privacy", ["secret", "", "PUBLIC", True])
def test_privacy_must_be_public_or_private(api: Client, privacy: object) -> None:
    response = api("POST", "/rooms", json={"privacy": privacy})
    assert_error(response, 400, "invalid-request-error", "privacy")


@pytest.mark.parametrize("count", [0, -1, 201])
def test_max_participants_must_be_1_to_200(api: Client, count: int) -> None:
    response = api("POST", "/rooms", json={"properties": {"max_participants": count}})
    assert_error(response, 400, "invalid-request-error", "max_participants")


@pytest.mark.parametrize("count", [1, 200])
def test_max_participants_bounds_are_accepted(api: Client, count: int) -> None:
    room = api("POST", "/rooms", json={"properties": {"max_participants": count}}).json()
    assert room["config"] == ({} if count == 200 else {"max_participants": count})


def test_unknown_room_property_is_rejected(api: Client) -> None:
    response = api("POST", "/rooms", json={"properties": {"enable_magic": True}})
    assert_error(response, 400, "invalid-request-error", "unknown parameter 'enable_magic'")


def test_unknown_top_level_parameter_is_rejected(api: Client, clock: FakeClock) -> None:
    response = api("POST", "/rooms", json={"exp": int(clock.now) + 60})
    assert_error(response, 400, "invalid-request-error", "unknown parameter 'exp'")


@pytest.mark.parametrize("properties", [[], "exp", 5])
def test_room_properties_must_be_an_object(api: Client, properties: object) -> None:
    response = api("POST", "/rooms", json={"properties": properties})
    assert_error(response, 400, "invalid-request-error", "should be an object")


def test_exp_in_the_past_is_rejected_by_the_clock(api: Client, clock: FakeClock) -> None:
    past = {"properties": {"exp": int(clock.now) - 1}}
    response = api("POST", "/rooms", json=past)
    assert_error(response, 400, "invalid-request-error", "which is in the past")
    future = {"properties": {"exp": int(clock.now) + 1}}
    assert api("POST", "/rooms", json=future).status_code == 200


# --- GET / DELETE /rooms ---------------------------------------------------------------------


def test_get_room_returns_the_created_object(api: Client) -> None:
    created = api("POST", "/rooms", json={"name": "r1", "properties": {"enable_chat": True}}).json()
    response = api("GET", "/rooms/r1")
    assert response.status_code == 200
    assert response.json() == created


def test_get_unknown_room_is_404(api: Client) -> None:
    response = api("GET", "/rooms/ghost")
    assert response.status_code == 404
    assert response.json() == {"error": "not-found", "info": "room ghost not found"}


def test_expired_room_is_treated_as_deleted(api: Client, clock: FakeClock) -> None:
    exp = int(clock.now) + 60
    api("POST", "/rooms", json={"name": "brief", "properties": {"exp": exp}})
    clock.advance(59)
    assert api("GET", "/rooms/brief").status_code == 200
    clock.advance(1)
    response = api("GET", "/rooms/brief")
    assert response.status_code == 404
    assert response.json() == {
        "error": "not-found",
        "info": "room brief not found",
        "deleted": True,
    }
    assert api("GET", "/rooms").json() == {"total_count": 0, "data": []}
    assert api("POST", "/rooms", json={"name": "brief"}).status_code == 200  # the name is free


def test_list_rooms_returns_live_rooms_newest_first(api: Client, clock: FakeClock) -> None:
    a = api("POST", "/rooms", json={"name": "a"}).json()
    b = api("POST", "/rooms", json={"name": "b", "properties": {"exp": int(clock.now) + 10}})
    assert api("GET", "/rooms").json() == {"total_count": 2, "data": [b.json(), a]}
    assert api("GET", "/rooms?limit=1").json() == {"total_count": 2, "data": [b.json()]}
    assert_error(api("GET", "/rooms?limit=ten"), 400, "invalid-request-error", "limit")
    clock.advance(10)
    assert api("GET", "/rooms").json() == {"total_count": 1, "data": [a]}


def test_unknown_path_is_404(api: Client) -> None:
    assert_error(api("GET", "/recordings"), 404, "not-found", "/v1/recordings")


@pytest.mark.parametrize(
    ("method", "path", "allow"),
    [
        ("DELETE", "/rooms", "GET, POST"),
        ("PUT", "/rooms/r", "GET, POST, DELETE"),
        ("GET", "/meeting-tokens", "POST"),
    ],
)
def test_wrong_method_is_405(api: Client, method: str, path: str, allow: str) -> None:
    response = api(method, path)
    assert_error(response, 405, "invalid-request-error", f"method {method} not allowed")
    assert response.headers["Allow"] == allow


# --- POST /meeting-tokens --------------------------------------------------------------------


def test_meeting_token_is_an_hs256_jwt_signed_with_the_key(
    api: Client, emulator: DailyEmulator, clock: FakeClock
) -> None:
    properties = {
        "room_name": "r1",
        "is_owner": True,
        "exp": int(clock.now) + 600,
        "nbf": int(clock.now),
        "user_name": "Ada",
        "user_id": "u-1",
        "eject_at_token_exp": True,
        "eject_after_elapsed": 300,
    }
    response = api("POST", "/meeting-tokens", json={"properties": properties})
    assert response.status_code == 200
    token = response.json()["token"]
    header, payload, signature = token.split(".")
    expected = hmac.new(KEY.encode(), f"{header}.{payload}".encode(), hashlib.sha256).digest()
    assert base64.urlsafe_b64encode(expected).rstrip(b"=").decode() == signature
    assert decode_segment(header) == {"alg": "HS256", "typ": "JWT"}
    claims = {
        "r": "r1",
        "o": True,
        "exp": int(clock.now) + 600,
        "nbf": int(clock.now),
        "u": "Ada",
        "ud": "u-1",
        "ejt": True,
        "eje": 300,
        "d": emulator.domain_id,
        "iat": int(clock.now),
    }
    assert decode_segment(payload) == claims
    assert emulator.tokens == [claims]


def test_meeting_token_without_properties_only_has_domain_and_iat(
    api: Client, emulator: DailyEmulator, clock: FakeClock
) -> None:
    assert api("POST", "/meeting-tokens").status_code == 200
    assert emulator.tokens == [{"d": emulator.domain_id, "iat": int(clock.now)}]


@pytest.mark.parametrize(
    ("properties", "problem"),
    [
        ({"room": "r1"}, "unknown parameter 'room'"),
        ({"eject_after_elapsed": 1.5}, "eject_after_elapsed was '1.5' but should be an integer"),
        ({"eject_after_elapsed": True}, "eject_after_elapsed was 'true'"),
        ({"exp": int(START) - 1}, "which is in the past rather than in the future"),
        ([], "properties was '[]' but should be an object"),
    ],
)
def test_meeting_token_properties_are_validated(
    api: Client, emulator: DailyEmulator, properties: object, problem: str
) -> None:
    response = api("POST", "/meeting-tokens", json={"properties": properties})
    assert_error(response, 400, "invalid-request-error", problem)
    assert emulator.tokens == []


def test_meeting_token_rejects_unknown_parameters_and_bad_json(api: Client) -> None:
    response = api("POST", "/meeting-tokens", json={"room_name": "r1"})
    assert_error(response, 400, "invalid-request-error", "unknown parameter 'room_name'")
    assert_error(api("POST", "/meeting-tokens", data=b"{"), 400, "json-parsing-error")


# --- GET / and GET /meeting-tokens/:token ---------------------------------------------------


def test_domain_configuration_names_the_domain_and_its_id(
    api: Client, emulator: DailyEmulator
) -> None:
    response = api("GET", "/")
    assert response.status_code == 200
    body = response.json()
    assert body["domain_name"] == "acme"
    assert str(uuid.UUID(body["domain_id"])) == body["domain_id"] == emulator.domain_id


# --- rate limits -----------------------------------------------------------------------------


def test_twenty_requests_per_second_then_429(api: Client, clock: FakeClock) -> None:
    for _ in range(20):
        assert api("POST", "/rooms").status_code == 200
    response = api("POST", "/rooms")
    assert response.status_code == 429
    assert response.json() == {
        "error": "rate-limit-error",
        "info": "rate limit exceeded. Back off and retry.",
    }
    assert "Retry-After" not in response.headers
    assert api("POST", "/meeting-tokens").status_code == 429  # same class, same key
    clock.advance(1)
    assert api("POST", "/rooms").status_code == 200


def test_window_limit_counts_across_seconds() -> None:
    clock = FakeClock()
    limits = RateLimits(default=RateLimit(per_second=10, per_window=3, window_seconds=10.0))
    with DailyEmulator(api_key=KEY, clock=clock, limits=limits) as daily:
        api = Client(daily)
        for _ in range(3):
            assert api("GET", "/rooms").status_code == 200
            clock.advance(2)
        assert api("GET", "/rooms").status_code == 429  # 3 in the last 10 s
        clock.advance(4)  # the first request is now 10 s old
        assert api("GET", "/rooms").status_code == 200


def test_delete_room_allows_two_per_second(api: Client, clock: FakeClock) -> None:
    assert api("DELETE", "/rooms/a").status_code == 404
    assert api("DELETE", "/rooms/b").status_code == 404
    assert_error(api("DELETE", "/rooms/c"), 429, "rate-limit-error")
    assert api("GET", "/rooms").status_code == 200  # other endpoints have their own limit
    clock.advance(1)
    assert api("DELETE", "/rooms/c").status_code == 404


def test_rejected_requests_are_logged(api: Client, emulator: DailyEmulator) -> None:
    for _ in range(21):
        api("GET", "/rooms")
    assert [record.status for record in emulator.calls("GET", "/rooms")] == [200] * 20 + [429]


# --- faults ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "error", "info"),
    [
        (500, "server-error", "server error"),
        (503, "server-error", "server error"),
        (429, "rate-limit-error", "rate limit exceeded. Back off and retry."),
        (401, "authentication-error", "emulated error"),
        (404, "not-found", "emulated error"),
    ],
)
def test_status_fault_uses_daily_error_body_once(
    api: Client, emulator: DailyEmulator, status: int, error: str, info: str
) -> None:
    emulator.inject(status=status)
    response = api("POST", "/rooms", json={"name": "r"})
    assert response.status_code == status
    assert response.json() == {"error": error, "info": info}
    assert emulator.rooms == {}
    assert api("POST", "/rooms", json={"name": "r"}).status_code == 200


def test_status_fault_with_body_and_headers(api: Client, emulator: DailyEmulator) -> None:
    emulator.inject(status=429, body={"error": "custom"}, headers={"Retry-After": "2"})
    response = api("GET", "/rooms")
    assert response.status_code == 429
    assert response.headers["Retry-After"] == "2"
    assert response.json() == {"error": "custom"}


def test_fault_matches_method_and_path_prefix_and_repeats(
    api: Client, emulator: DailyEmulator
) -> None:
    emulator.inject(method="post", path_prefix="/rooms", status=502, times=2)
    assert api("GET", "/rooms").status_code == 200
    assert api("POST", "/meeting-tokens").status_code == 200
    assert api("POST", "/rooms").status_code == 502
    assert api("POST", "/rooms").status_code == 502
    assert api("POST", "/rooms").status_code == 200


def test_fault_path_prefix_may_include_v1(api: Client, emulator: DailyEmulator) -> None:
    emulator.inject(path_prefix="/v1/meeting-tokens", status=500)
    assert api("POST", "/rooms").status_code == 200
    assert api("POST", "/meeting-tokens").status_code == 500


def test_faults_bypass_auth(api: Client, emulator: DailyEmulator) -> None:
    emulator.inject(status=500)
    assert api("GET", "/rooms", key=None).status_code == 500


def test_malformed_fault_answers_html(api: Client, emulator: DailyEmulator) -> None:
    emulator.inject(malformed=True)
    response = api("POST", "/rooms")
    assert response.status_code == 200
    assert response.text == "<html>oops"
    with pytest.raises(requests.JSONDecodeError):
        response.json()
    assert emulator.rooms == {}


def test_delay_fault_delays_normal_handling(api: Client, emulator: DailyEmulator) -> None:
    emulator.inject(delay=0.3)
    started = time.monotonic()
    response = api("POST", "/rooms", json={"name": "slow"})
    assert time.monotonic() - started >= 0.3
    assert response.status_code == 200
    assert "slow" in emulator.rooms


def test_client_timeout_during_a_delay_is_handled_quietly(
    api: Client, emulator: DailyEmulator, capfd: pytest.CaptureFixture[str]
) -> None:
    emulator.inject(delay=0.5)
    with pytest.raises(requests.Timeout):
        api("GET", "/rooms", timeout=0.1)
    deadline = time.monotonic() + 5
    while not emulator.requests_log and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.1)  # let the handler try to write to the closed socket
    assert [record.status for record in emulator.requests_log] == [200]
    assert capfd.readouterr().err == ""


def test_drop_fault_closes_the_connection(api: Client, emulator: DailyEmulator) -> None:
    emulator.inject(drop=True)
    with pytest.raises(requests.ConnectionError):
        api("POST", "/rooms", json={"name": "never"})
    assert emulator.rooms == {}
    assert [record.status for record in emulator.requests_log] == [None]
    assert api("POST", "/rooms", json={"name": "later"}).status_code == 200


@pytest.mark.parametrize(
    "options",
    [{"status": 99}, {"status": "500"}, {"times": 0}, {"delay": -1}],
)
def test_inject_rejects_bad_options(emulator: DailyEmulator, options: dict) -> None:
    with pytest.raises(ValueError, match=r"status|times"):
        emulator.inject(**options)


# --- requests_log ----------------------------------------------------------------------------


def test_requests_log_records_every_api_call(
    api: Client, emulator: DailyEmulator, clock: FakeClock
) -> None:
    before = time.monotonic()
    api("POST", "/rooms", json={"name": "logged"})
    emulator.inject(status=500)
    api("GET", "/rooms/logged?x=1")
    api("DELETE", "/rooms/logged", key="wrong")
    log = emulator.requests_log
    assert [(r.method, r.path, r.body, r.status) for r in log] == [
        ("POST", "/v1/rooms", {"name": "logged"}, 200),
        ("GET", "/v1/rooms/logged", None, 500),
        ("DELETE", "/v1/rooms/logged", None, 401),
    ]
    assert before <= log[0].at <= log[1].at <= log[2].at <= time.monotonic()


def test_calls_filters_by_method_and_prefix(api: Client, emulator: DailyEmulator) -> None:
    api("POST", "/rooms")
    api("POST", "/rooms")
    api("GET", "/rooms")
    api("POST", "/meeting-tokens")
    assert len(emulator.calls()) == 4
    assert len(emulator.calls("POST")) == 3
    assert len(emulator.calls(method="post", path_prefix="/rooms")) == 2
    assert len(emulator.calls(path_prefix="/v1/meeting-tokens")) == 1


def test_reset_clears_state_faults_and_rate_windows(api: Client, emulator: DailyEmulator) -> None:
    api("POST", "/rooms", json={"name": "r"})
    api("POST", "/meeting-tokens")
    for _ in range(20):
        api("GET", "/rooms")
    emulator.inject(status=500)
    emulator.reset()
    assert (emulator.rooms, emulator.tokens, emulator.requests_log) == ({}, [], [])
    assert api("GET", "/rooms").status_code == 200  # neither faulted nor rate limited


# --- HTTP control routes ---------------------------------------------------------------------


def test_http_fault_injection(api: Client, emulator: DailyEmulator) -> None:
    options = {"method": "POST", "status": 503, "headers": {"Retry-After": "1"}, "times": 1}
    response = api.control("POST", "faults", json=options)
    assert response.status_code == 200
    assert response.json() == {"injected": True}
    faulted = api("POST", "/rooms")
    assert (faulted.status_code, faulted.headers["Retry-After"]) == (503, "1")
    assert faulted.json()["error"] == "server-error"
    assert api("POST", "/rooms").status_code == 200


@pytest.mark.parametrize("options", [{"stauts": 500}, {"times": 0}, {"delay": "soon"}, [1]])
def test_http_fault_injection_rejects_bad_options(api: Client, options: object) -> None:
    assert_error(api.control("POST", "faults", json=options), 400, "invalid-request-error")
    assert api("GET", "/rooms").status_code == 200  # nothing was queued


def test_http_state_and_reset(api: Client, emulator: DailyEmulator, clock: FakeClock) -> None:
    room = api("POST", "/rooms", json={"name": "r"}).json()
    api("POST", "/meeting-tokens", json={"properties": {"room_name": "r"}})
    state = api.control("GET", "state").json()
    assert state["rooms"] == {"r": room}
    assert state["tokens"] == [{"r": "r", "d": emulator.domain_id, "iat": int(clock.now)}]
    assert [(r["method"], r["path"], r["status"]) for r in state["requests_log"]] == [
        ("POST", "/v1/rooms", 200),
        ("POST", "/v1/meeting-tokens", 200),
    ]
    assert api.control("POST", "reset").json() == {"reset": True}
    assert api.control("GET", "state").json() == {"rooms": {}, "tokens": [], "requests_log": []}


def test_control_routes_are_unauthenticated_unlogged_and_unlimited(
    api: Client, emulator: DailyEmulator
) -> None:
    emulator.inject(status=500)  # faults never apply to control routes
    for _ in range(30):
        assert api.control("GET", "state").status_code == 200
    assert emulator.requests_log == []
    assert api("GET", "/rooms").status_code == 500
