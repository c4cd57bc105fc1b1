"""The create-room handler against moto's server and the Daily emulator over real HTTP."""

from __future__ import annotations

import json
import time

import pytest
from aws_lambda_powertools.utilities import parameters

from daily_rooms.stored_secrets import EMPTY_RECHECK_SECONDS
from localdev.local_stack import SECRET_NAME
from tests.helpers import Invoker, load_event
from tests.integration.scenarios import SCENARIOS, Scenario

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
def short_timeouts(create_room: Invoker, monkeypatch: pytest.MonkeyPatch) -> None:
    """Read timeout short enough for the emulator's delay fault to trip it quickly."""
    monkeypatch.setattr(create_room.module.creator.daily, "timeout", (1.0, 0.5))


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


def test_exp_is_computed_per_request_not_per_container(fresh_stack, create_room, monkeypatch):
    first = create_room(with_body(None))[2]["exp"]
    real_time = time.time
    monkeypatch.setattr(time, "time", lambda: real_time() + 120)
    second = create_room(with_body(None))[2]["exp"]

    assert second - first >= 119


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.name)
def test_error_mapping(fresh_stack, create_room, short_timeouts, scenario: Scenario):
    status, headers, body = run_scenario(fresh_stack, create_room, scenario)

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
    client = parameters.base.DEFAULT_PROVIDERS["secrets"].client
    count = lambda **_: fetches.append("GetSecretValue")  # noqa: E731
    client.meta.events.register("before-call.secrets-manager.GetSecretValue", count)
    try:
        assert create_room(with_body(None))[0] == 201
        assert create_room(with_body(None))[0] == 201
    finally:
        client.meta.events.unregister("before-call.secrets-manager.GetSecretValue", count)

    assert fetches == []
    assert len(fresh_stack.daily.rooms) == 3


def test_key_put_after_deploy_is_seen_within_seconds(fresh_stack, create_room):
    """An empty secret is re-read after EMPTY_RECHECK_SECONDS, not after the cache's max age."""
    fresh_stack.set_configured(False)
    assert create_room(with_body(None))[2]["error"] == "not_configured"
    fresh_stack.client("secretsmanager").put_secret_value(  # no cache cleared: as in AWS
        SecretId=SECRET_NAME, SecretString=json.dumps({"apiKey": fresh_stack.api_key})
    )
    assert create_room(with_body(None))[2]["error"] == "not_configured"  # still the cached value

    api_key = create_room.module.creator.api_key
    api_key._empty_since -= EMPTY_RECHECK_SECONDS + 1  # as if that much time had passed

    assert create_room(with_body(None))[0] == 201


def test_key_appears_in_no_log_line_and_no_response(
    fresh_stack, create_room, health, logs, short_timeouts, capsys
):
    answers = []
    for number, scenario in enumerate(SCENARIOS):
        fresh_stack.daily.wait_idle()
        fresh_stack.daily.reset()
        answers.append(run_scenario(fresh_stack, create_room, scenario, f"198.51.100.{number}"))
    fresh_stack.daily.wait_idle()
    fresh_stack.daily.reset()
    fresh_stack.set_configured(True)
    answers.append(create_room(with_body(None), viewer="198.51.100.200"))
    answers.append(health(load_event("health/health.json")))
    printed = capsys.readouterr()

    assert len(logs.lines) >= len(SCENARIOS)
    assert answers[-2][0] == 201
    everything = "\n".join([*logs.lines, json.dumps(answers), printed.out, printed.err])
    assert fresh_stack.api_key not in everything
