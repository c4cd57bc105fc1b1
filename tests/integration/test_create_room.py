"""The create-room handler against moto's server and the Daily emulator over real HTTP."""

from __future__ import annotations

import base64
import json
import time

import pytest
import requests

from daily_rooms.stored_secrets import EMPTY_RECHECK_SECONDS, StoredSecrets
from localdev.local_stack import SECRET_NAME
from tests.helpers import CrashingSession, DailyTransport, Invoker, MovableClock, load_event
from tests.helpers.creates import SCENARIOS, Scenario, verified_claims

EXPECTED_PROPERTIES = {
    "enable_prejoin_ui": True,
    "enable_network_ui": True,
    "enable_screenshare": True,
    "enable_chat": True,
    "eject_at_room_exp": True,
    "max_participants": 10,
}


def with_body(body: str | None) -> dict:
    event = load_event("create_room/create.json")
    if body is None:
        event.pop("body", None)
    else:
        event["body"] = body
    return event


def run_scenario(
    stack, create_room: Invoker, scenario: Scenario, viewer: str = "198.51.100.7"
) -> tuple[int, dict, dict]:
    stack.set_configured(scenario.configured)
    if scenario.daily_fault:
        stack.daily.inject(method="POST", path_prefix="/v1/rooms", times=10, **scenario.daily_fault)
    return create_room(with_body(scenario.body), viewer=viewer)


@pytest.fixture
def short_timeouts(create_room: Invoker) -> Invoker:
    """Read timeout short enough for the emulator's delay fault to trip it quickly."""
    return create_room.new(connect_timeout=1.0, read_timeout=0.5)


def test_creates_room_with_the_original_properties_and_fresh_exp(fresh_stack, create_room):
    before = time.time()
    status, headers, body = create_room(with_body('{"ttl_seconds": 600}'))

    assert status == 201
    assert headers["Content-Type"] == "application/json"
    assert set(body) == {"name", "url", "exp", "ownerToken"}
    stored = fresh_stack.daily.rooms[body["name"]]
    sent = dict(fresh_stack.daily.calls("POST", "/rooms")[-1].body["properties"])
    exp = sent.pop("exp")
    assert sent == EXPECTED_PROPERTIES
    assert stored["config"]["exp"] == exp
    assert isinstance(exp, int)
    assert abs(exp - (before + 600)) <= 2
    assert body["url"] == stored["url"] == f"https://emulator.daily.co/{body['name']}"
    assert body["exp"] == exp
    assert "?" not in body["url"]


def test_default_ttl_is_used_without_a_body(fresh_stack, create_room):
    status, _, body = create_room(with_body(None))

    assert status == 201
    assert abs(body["exp"] - (time.time() + 300)) <= 2


def test_room_names_are_server_chosen_and_unguessable(fresh_stack, create_room):
    names = {create_room(with_body(None))[2]["name"] for _ in range(5)}

    assert len(names) == 5
    assert all(
        len(name) >= 22 and name.replace("-", "").replace("_", "").isalnum() for name in names
    )


def test_exp_is_computed_per_request_not_per_container(fresh_stack, create_room):
    clock = MovableClock()
    create_room = create_room.new(clock=clock)
    first = create_room(with_body(None))[2]["exp"]
    clock.ahead = 120
    second = create_room(with_body(None))[2]["exp"]

    assert second - first >= 119


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.name)
def test_error_mapping(fresh_stack, short_timeouts, scenario: Scenario):
    status, headers, body = run_scenario(fresh_stack, short_timeouts, scenario)

    assert (status, body["error"]) == (scenario.status, scenario.error)
    assert body["requestId"] == load_event("create_room/create.json")["requestContext"]["requestId"]
    assert body["message"]
    assert "Traceback" not in body["message"]
    assert headers["Content-Type"] == "application/json"
    for name, value in scenario.headers.items():
        assert headers[name] == value
    fresh_stack.daily.wait_idle()
    assert len(fresh_stack.daily.rooms) <= scenario.max_rooms


def test_daily_400_detail_is_logged_not_returned(fresh_stack, create_room, logs):
    fresh_stack.daily.inject(
        method="POST", status=400, body={"error": "invalid-request-error", "info": "odd thing"}
    )
    status, _, body = create_room(with_body(None))

    assert status == 502
    assert "odd thing" not in json.dumps(body)
    assert any("odd thing" in line and '"level":"ERROR"' in line for line in logs.lines)


def test_daily_auth_failure_is_logged_as_error(fresh_stack, create_room, logs):
    fresh_stack.daily.inject(method="POST", status=401, times=10)
    create_room(with_body(None))

    errors = [json.loads(line) for line in logs.lines if '"level":"ERROR"' in line]
    assert any(line["daily_status"] == 401 for line in errors)


def test_wrong_method_gets_405_with_allow(fresh_stack, create_room):
    status, headers, body = create_room(load_event("create_room/wrong_method.json"))

    assert status == 405
    assert headers["Allow"] == "POST"
    assert body["error"] == "method_not_allowed"
    assert fresh_stack.daily.calls() == []


def test_warm_call_does_not_fetch_the_secret_again(fresh_stack, create_room):
    fetches: list[str] = []
    create_room(with_body(None))
    events = create_room.wiring["secretsmanager"].meta.events
    count = lambda **_: fetches.append("secret")  # noqa: E731
    events.register("before-call.secrets-manager", count)
    try:
        assert create_room(with_body(None))[0] == 201
        assert create_room(with_body(None))[0] == 201
    finally:
        events.unregister("before-call.secrets-manager", count)

    assert fetches == []
    assert len(fresh_stack.daily.rooms) == 3


def test_key_put_after_deploy_is_seen_within_seconds(fresh_stack, create_room):
    """An empty secret is re-read after EMPTY_RECHECK_SECONDS, not after the cache's max age."""
    clock = [time.monotonic()]
    secrets = StoredSecrets(
        create_room.wiring["secretsmanager"], SECRET_NAME, "", 300, clock=lambda: clock[0]
    )
    fresh_stack.set_configured(False)
    assert not secrets.is_configured()
    fresh_stack.set_configured(True)
    assert not secrets.is_configured()  # still the cached value

    clock[0] += EMPTY_RECHECK_SECONDS + 1

    assert secrets.is_configured()


ANSWER_CHANGES = {
    "name": lambda room: room.update(name="someone-elses-room"),
    "host": lambda room: room.update(url=f"https://evil.example/{room['name']}"),
    "team": lambda room: room.update(url=f"https://other-team.daily.co/{room['name']}"),
    "scheme": lambda room: room.update(url=room["url"].replace("https:", "http:")),
    "path": lambda room: room.update(url=room["url"] + "/extra"),
    "exp": lambda room: room["config"].update(exp=room["config"]["exp"] + 3600),
    "no exp": lambda room: room["config"].pop("exp"),
    "exp as text": lambda room: room["config"].update(exp=str(room["config"]["exp"])),
}


@pytest.mark.parametrize("change", ANSWER_CHANGES.values(), ids=ANSWER_CHANGES.keys())
def test_a_room_daily_did_not_make_as_asked_never_reaches_the_page(
    fresh_stack, create_room, logs, change
):
    """Daily answers 200, but with another room: 502, and neither URL nor token is answered."""
    tampered = create_room.new(daily_session=DailyTransport(rewrite=change).session())
    status, _, body = tampered(with_body(None))

    assert (status, body["error"]) == (502, "upstream_error")
    assert set(body) == {"error", "message", "requestId"}
    assert any("another room" in line and '"level":"ERROR"' in line for line in logs.lines)


def test_every_owner_token_verifies_with_the_key_for_that_room_only(fresh_stack, create_room):
    answers = [create_room(with_body('{"ttl_seconds": 600}'))[2] for _ in range(3)]

    for body in answers:
        claims = verified_claims(fresh_stack, body["ownerToken"])
        assert claims["room_name"] == body["name"]
        assert claims["is_owner"] is True
        assert claims["exp"] == body["exp"]
        header, payload, _ = body["ownerToken"].split(".")
        raw = json.loads(base64.urlsafe_b64decode(payload + "=="))
        assert set(raw) == {"r", "o", "exp", "iat", "d"}
        assert raw["d"] == fresh_stack.daily.domain_id
        assert abs(raw["iat"] - time.time()) <= 5
        assert json.loads(base64.urlsafe_b64decode(header + "==")) == {"alg": "HS256", "typ": "JWT"}
        assert body["ownerToken"] not in body["url"]
    assert fresh_stack.daily.calls(method="POST", path_prefix="/meeting-tokens") == []


def test_a_token_for_another_domain_would_not_verify(fresh_stack, create_room):
    """The emulator checks `d`: the test above would fail with a wrong domain_id."""
    domain = {"domainId": "another-domain", "domainName": fresh_stack.daily.domain}
    fresh_stack.set_secret(json.dumps({"apiKey": fresh_stack.api_key, **domain}))
    body = create_room(with_body(None))[2]
    response = requests.get(
        f"{fresh_stack.daily.base_url}/meeting-tokens/{body['ownerToken']}",
        headers={"Authorization": f"Bearer {fresh_stack.api_key}"},
        timeout=5,
    )

    assert response.status_code == 400


def test_owner_tokens_can_be_turned_off(fresh_stack, create_room):
    status, _, body = create_room.new(owner_tokens=False)(with_body(None))

    assert (status, set(body)) == (201, {"name", "url", "exp"})


def test_the_domain_comes_from_the_secret_when_stored_there(fresh_stack, create_room):
    """Contract: {"apiKey", "domainId", "domainName"}; then no GET /v1/ is needed."""
    daily = fresh_stack.daily
    fresh_stack.set_secret(
        json.dumps(
            {"apiKey": fresh_stack.api_key, "domainId": daily.domain_id, "domainName": daily.domain}
        )
    )
    status, _, body = create_room(with_body(None))  # a new container: no domain known yet

    assert status == 201
    assert [(call.method, call.path) for call in daily.calls()] == [("POST", "/v1/rooms")]
    assert verified_claims(fresh_stack, body["ownerToken"])["room_name"] == body["name"]


def test_a_plain_string_secret_still_works(fresh_stack, create_room):
    fresh_stack.set_secret(fresh_stack.api_key)

    assert create_room(with_body(None))[0] == 201


def test_key_appears_in_no_log_line_and_no_response(
    fresh_stack, create_room, health, logs, short_timeouts, capsys
):
    answers = []
    for number, scenario in enumerate(SCENARIOS):  # each in a new container, which reads the key
        fresh_stack.daily.wait_idle()
        fresh_stack.daily.reset()
        container = short_timeouts.new()
        answers.append(run_scenario(fresh_stack, container, scenario, f"198.51.100.{number}"))
    fresh_stack.daily.wait_idle()
    fresh_stack.daily.reset()
    fresh_stack.set_configured(True)
    answers.append(create_room.new()(with_body(None), viewer="198.51.100.200"))
    answers.append(health(load_event("health/health.json")))
    printed = capsys.readouterr()

    assert len(logs.lines) >= len(SCENARIOS)
    assert answers[-2][0] == 201
    everything = "\n".join([*logs.lines, json.dumps(answers), printed.out, printed.err])
    assert fresh_stack.api_key not in everything


def metrics_printed(capsys) -> list[str]:
    """The metrics the invocations printed (CloudWatch EMF lines on stdout), ColdStart aside."""
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines() if '"_aws"' in line]
    names = [
        metric["Name"]
        for line in lines
        for directive in line["_aws"]["CloudWatchMetrics"]
        for metric in directive["Metrics"]
    ]
    return [name for name in names if name != "ColdStart"]


def test_each_outcome_has_its_metric(fresh_stack, create_room, capsys):
    now = time.time()  # one window for all the creates
    create_room = create_room.new(clock=lambda: now)
    capsys.readouterr()
    assert create_room(with_body(None))[0] == 201
    assert metrics_printed(capsys) == ["RoomsCreated"]

    fresh_stack.daily.inject(method="POST", path_prefix="/rooms", status=400)
    assert create_room(with_body(None))[0] == 502
    assert sorted(metrics_printed(capsys)) == ["DailyFailures", "ServerErrors"]

    assert create_room.new(viewer_limit=1)(with_body(None))[0] == 429
    assert sorted(metrics_printed(capsys)) == ["ClientErrors", "RateLimited"]

    assert create_room(with_body("{"))[0] == 400
    assert metrics_printed(capsys) == ["ClientErrors"]


def test_only_our_own_failures_count_as_internal_errors(fresh_stack, create_room, health, capsys):
    """A canary rolls back on InternalErrors: a bug of the new version counts, Daily's trouble
    (a ServerErrors too) does not."""
    capsys.readouterr()
    fresh_stack.daily.inject(method="POST", path_prefix="/rooms", status=500, times=10)
    status, _, body = create_room(with_body(None))
    assert status >= 500
    assert body["error"].startswith("upstream_")
    assert "InternalErrors" not in metrics_printed(capsys)

    # InternalErrors twice: for the service, and for the running function's version.
    ours = ["InternalErrors", "InternalErrors", "ServerErrors"]
    status, _, body = create_room.new(daily_session=CrashingSession())(with_body(None))
    assert (status, body["error"]) == (500, "internal_error")
    assert sorted(metrics_printed(capsys)) == ours

    for function in (create_room, health):  # the last resort in api.resolve()
        answer = function.raw([])
        assert answer["statusCode"] == 500
        assert sorted(metrics_printed(capsys)) == ours, function.build.__name__
