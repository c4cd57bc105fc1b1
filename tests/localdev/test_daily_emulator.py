"""The Daily emulator's own rules over real HTTP: auth, room names, expiry, tokens, rate limits and
the faults tests inject (its property table: test_conformance.py; its callers' view:
test_docs_client.py, test_client_replays.py and the integration tests)."""

import re
import signal
import subprocess
import sys
import time
import uuid

import pytest
import requests

from localdev.daily_emulator import DailyEmulator, RateLimit, RateLimits
from tests.helpers import ROOT, start_in_foreground
from tests.helpers.daily import KEY, START, Client, FakeClock, assert_error, decode_segment, sign


def test_command_line_serves_until_interrupted_and_stop_closes_the_port() -> None:
    options = ["--port", "0", "--api-key", "K", "--domain", "cli"]
    command = [sys.executable, "-m", "localdev.daily_emulator", *options]
    pipes = {"stdout": subprocess.PIPE, "stderr": subprocess.PIPE, "text": True}
    process = start_in_foreground(command, cwd=ROOT, **pipes)
    try:
        assert process.stdout is not None
        base_url = process.stdout.readline().split()[-1]
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+/v1", base_url)
        auth = {"Authorization": "Bearer K"}
        room = requests.post(base_url + "/rooms", json={"name": "x"}, headers=auth, timeout=5)
        assert room.json()["url"] == "https://cli.daily.co/x"
        process.send_signal(signal.SIGINT)
        stdout, stderr = process.communicate(timeout=10)
    finally:
        process.kill()
    assert (process.returncode, "stopped" in stdout, stderr) == (0, True, "")  # no access log
    with pytest.raises(requests.ConnectionError):
        requests.get(base_url + "/", timeout=5)


ENDPOINTS = [
    ("GET", "/"),
    ("POST", "/rooms"),
    ("GET", "/rooms/some-room"),
    ("DELETE", "/rooms/some-room"),
    ("POST", "/meeting-tokens"),
    ("GET", "/meeting-tokens/some-token"),
    ("GET", "/no-such-endpoint"),
]
BAD_HEADERS = [None, "Basic dGVzdA==", "Bearer", "Bearer ", f"bearer {KEY}", KEY, "Bearer other"]


@pytest.mark.parametrize(("method", "path"), ENDPOINTS)
def test_every_endpoint_needs_the_bearer_key(api: Client, emulator, method, path) -> None:
    for header in BAD_HEADERS:
        response = api(method, path, key=None, headers={"Authorization": header} if header else {})
        if header is None:
            assert_error(response, 400, "authorization-header-error", "missing")
        elif header == "Bearer other":
            assert_error(response, 401, "authentication-error")
        else:
            assert_error(response, 400, "authorization-header-error", "format")
    assert emulator.rooms == {}


def test_a_room_without_body_gets_a_random_name_and_defaults(api: Client, emulator) -> None:
    room = api("POST", "/rooms").json()
    assert re.fullmatch(r"[A-Za-z]{20}", room["name"])
    assert uuid.UUID(room["id"]).version == 4
    assert (room["api_created"], room["privacy"], room["config"]) == (True, "public", {})
    assert room["url"] == f"https://acme.daily.co/{room['name']}"
    assert room["created_at"] == "2023-11-14T22:13:20.000Z"
    assert emulator.rooms == {room["name"]: room}
    assert api("GET", f"/rooms/{room['name']}").json() == room


@pytest.mark.parametrize(
    ("body", "error", "problem"),
    [
        (b"{not json", "json-parsing-error", ""),
        (b"\xff\xfe", "json-parsing-error", ""),
        (b'{"properties": {"exp": Infinity}}', "json-parsing-error", ""),
        (b'{"properties": {"nbf": NaN}}', "json-parsing-error", ""),
        ([], "invalid-request-error", "JSON object"),
        ({"name": ""}, "invalid-request-error", "non-empty"),
        ({"name": 7}, "invalid-request-error", "name was '7' but should be a non-empty string"),
        ({"name": "has space"}, "invalid-request-error", "has space contains invalid characters"),
        ({"name": "émile"}, "invalid-request-error", "invalid characters"),
        ({"name": "a" * 129}, "invalid-request-error", "128"),
        ({"privacy": "PUBLIC"}, "invalid-request-error", "privacy"),
        ({"properties": {"max_participants": 201}}, "invalid-request-error", "max_participants"),
        ({"properties": {"enable_magic": True}}, "invalid-request-error", "'enable_magic'"),
        ({"exp": START + 60}, "invalid-request-error", "unknown parameter 'exp'"),
        ({"properties": "exp"}, "invalid-request-error", "should be an object"),
        ({"properties": {"exp": START - 1}}, "invalid-request-error", "which is in the past"),
    ],
)
def test_a_bad_create_is_refused_with_dailys_error(api: Client, emulator, body, error, problem):
    sent = {"data": body} if isinstance(body, bytes) else {"json": body}
    assert_error(api("POST", "/rooms", **sent), 400, error, problem)
    assert emulator.rooms == {}


def test_names_are_unique_and_an_expired_room_is_gone(api: Client, clock: FakeClock) -> None:
    assert api("POST", "/rooms", json={"name": "a" * 128}).status_code == 200
    body = {"name": "brief", "properties": {"exp": int(clock.now) + 60}}
    first = api("POST", "/rooms", json=body).json()
    taken = api("POST", "/rooms", json={"name": "brief"})
    assert_error(taken, 400, "invalid-request-error", "a room named brief already exists")
    assert api("GET", "/rooms/ghost").json() == {
        "error": "not-found",
        "info": "room ghost not found",
    }
    clock.advance(59)
    assert api("GET", "/rooms/brief").json() == first
    clock.advance(1)
    gone = {"error": "not-found", "info": "room brief not found", "deleted": True}
    assert api("GET", "/rooms/brief").json() == gone
    assert api("POST", "/rooms", json={"name": "brief"}).status_code == 200  # the name is free
    assert api("DELETE", "/rooms/brief").json() == {"deleted": True, "name": "brief"}
    assert api("GET", "/rooms/brief").status_code == 404


def test_wrong_methods_and_paths(api: Client) -> None:
    assert_error(api("GET", "/recordings"), 404, "not-found", "/v1/recordings")
    for method, path, allow in [("PUT", "/rooms/r", "GET, DELETE"), ("GET", "/rooms", "POST")]:
        response = api(method, path)
        assert_error(response, 405, "invalid-request-error", f"method {method} not allowed")
        assert response.headers["Allow"] == allow


def test_a_meeting_token_is_an_hs256_jwt_of_the_short_claims(api: Client, emulator, clock):
    now = int(clock.now)
    properties = {"room_name": "r1", "is_owner": True, "exp": now + 600, "user_name": "Ada"}
    token = api("POST", "/meeting-tokens", json={"properties": properties}).json()["token"]
    claims = {"r": "r1", "o": True, "exp": now + 600, "u": "Ada", "d": emulator.domain_id}
    claims["iat"] = now
    assert token == sign(claims)  # the signature is HS256 with the key, over these claims
    assert decode_segment(token.split(".")[1]) == claims == emulator.tokens[0]
    assert api("POST", "/meeting-tokens").status_code == 200
    assert emulator.tokens[1] == {"d": emulator.domain_id, "iat": now}


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        ({"properties": {"room": "r1"}}, "unknown parameter 'room'"),
        ({"properties": {"eject_after_elapsed": 1.5}}, "'1.5' but should be an integer"),
        ({"properties": {"exp": START - 1}}, "which is in the past rather than in the future"),
        ({"properties": []}, "properties was '[]' but should be an object"),
        ({"room_name": "r1"}, "unknown parameter 'room_name'"),
    ],
)
def test_bad_token_properties_are_refused(api: Client, emulator, body, problem) -> None:
    assert_error(api("POST", "/meeting-tokens", json=body), 400, "invalid-request-error", problem)
    assert emulator.tokens == []


def test_domain_configuration_names_the_domain_and_its_id(api: Client, emulator) -> None:
    body = api("GET", "/").json()
    assert body["domain_name"] == "acme"
    assert str(uuid.UUID(body["domain_id"])) == body["domain_id"] == emulator.domain_id


def test_rate_limits_per_second_per_window_and_for_deletes(api: Client, emulator, clock) -> None:
    for _ in range(20):
        assert api("POST", "/rooms").status_code == 200
    limited = api("POST", "/rooms")
    assert limited.json() == {
        "error": "rate-limit-error",
        "info": "rate limit exceeded. Back off and retry.",
    }
    assert "Retry-After" not in limited.headers
    assert api("POST", "/meeting-tokens").status_code == 429  # same class, same key
    assert [r.status for r in emulator.calls("POST", "/rooms")] == [200] * 20 + [429]
    assert [api("DELETE", f"/rooms/{n}").status_code for n in "abc"] == [404, 404, 429]
    clock.advance(1)
    assert api("POST", "/rooms").status_code == 200
    windowed = RateLimits(default=RateLimit(per_second=10, per_window=3, window_seconds=10.0))
    emulator.set_limits(windowed)
    try:
        clock.advance(10)
        for _ in range(3):
            assert api("GET", "/").status_code == 200
            clock.advance(2)
        assert api("GET", "/").status_code == 429  # 3 in the last 10 s
        clock.advance(4)  # the first is now 10 s old
        assert api("GET", "/").status_code == 200
    finally:
        emulator.set_limits(RateLimits())


@pytest.mark.parametrize(
    ("status", "error", "info"),
    [
        (500, "server-error", "server error"),
        (429, "rate-limit-error", "rate limit exceeded. Back off and retry."),
        (401, "authentication-error", "emulated error"),
    ],
)
def test_a_status_fault_answers_dailys_error_body_once(api: Client, emulator, status, error, info):
    emulator.inject(status=status)
    response = api("POST", "/rooms", json={"name": "r"}, key=None)  # faults come before auth
    assert (response.status_code, response.json()) == (status, {"error": error, "info": info})
    assert emulator.rooms == {}
    assert api("POST", "/rooms", json={"name": "r"}).status_code == 200


def test_faults_match_method_and_path_and_repeat(api: Client, emulator: DailyEmulator) -> None:
    emulator.inject(method="post", path_prefix="/rooms", status=502, times=2)
    emulator.inject(path_prefix="/v1/meeting-tokens", status=429, headers={"Retry-After": "2"})
    assert api("GET", "/").status_code == 200
    assert [api("POST", "/rooms").status_code for _ in range(3)] == [502, 502, 200]
    limited = api("POST", "/meeting-tokens")
    assert (limited.status_code, limited.headers["Retry-After"]) == (429, "2")
    with pytest.raises(ValueError, match="status"):
        emulator.inject(status=99)
    with pytest.raises(ValueError, match="times"):
        emulator.inject(times=0)


def test_malformed_delayed_and_dropped_answers(api: Client, emulator: DailyEmulator) -> None:
    emulator.inject(malformed=True)
    assert api("POST", "/rooms").text == "<html>oops"
    emulator.inject(drop=True)
    with pytest.raises(requests.ConnectionError):
        api("POST", "/rooms", json={"name": "never"})
    emulator.inject(delay=0.3)
    started = time.monotonic()
    assert api("POST", "/rooms", json={"name": "slow"}).status_code == 200
    assert time.monotonic() - started >= 0.3
    assert list(emulator.rooms) == ["slow"]
    assert [r.status for r in emulator.requests_log] == [200, None, 200]


def test_requests_log_state_route_and_reset(api: Client, emulator: DailyEmulator, clock) -> None:
    room = api("POST", "/rooms", json={"name": "r"}).json()
    api("GET", "/rooms/r?x=1", key="wrong")
    emulator.inject(status=500)  # faults never apply to the state route, nor does the limit
    for _ in range(25):
        state = api.control("GET", "state").json()
    assert state["rooms"] == {"r": room}
    assert [(r["method"], r["path"], r["body"], r["status"]) for r in state["requests_log"]] == [
        ("POST", "/v1/rooms", {"name": "r"}, 200),
        ("GET", "/v1/rooms/r", None, 401),
    ]
    assert len(emulator.calls(method="get", path_prefix="/rooms")) == 1
    emulator.reset()
    assert (emulator.rooms, emulator.tokens, emulator.requests_log) == ({}, [], [])
    assert api("POST", "/rooms").status_code == 200  # neither faulted nor rate limited
