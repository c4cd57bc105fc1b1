"""The health endpoint, and every sample event in `events/` through its own handler."""

from __future__ import annotations

import json

import pytest

from tests.helpers import ROOT, event_files, load_event

EXPECTED_STATUS = {
    "create_room/create.json": 201,
    "create_room/create_no_body.json": 201,
    "create_room/wrong_method.json": 405,
    "create_room/bad_body.json": 400,
    "health/health.json": 200,
}


def test_every_event_file_has_an_expected_answer():
    assert set(event_files()) == set(EXPECTED_STATUS)


@pytest.mark.parametrize("path", event_files())
def test_event_file_is_handled_without_error(fresh_stack, create_room, health, path):
    invoke = {"create_room": create_room, "health": health}[path.split("/")[0]]
    status, headers, body = invoke(load_event(path))

    assert status == EXPECTED_STATUS[path]
    assert headers["Content-Type"] == "application/json"
    if status >= 400:
        assert set(body) == {"error", "message", "requestId"}


@pytest.mark.parametrize("configured", [True, False])
def test_health_says_whether_the_key_is_in_place(fresh_stack, health, configured):
    fresh_stack.set_configured(configured)
    status, _, body = health(load_event("health/health.json"))

    assert (status, body["configured"]) == (200, configured)


def test_health_gives_the_lifetimes_from_the_function_settings(fresh_stack, health):
    health = health.new(min_room_ttl=120, max_room_ttl=1800, room_ttl=900)
    _, _, body = health(load_event("health/health.json"))

    assert body["ttl"] == {"min": 120, "max": 1800, "default": 900}


def test_not_configured_tells_the_operator_in_the_log_only(fresh_stack, health, logs):
    fresh_stack.set_configured(False)
    _, _, body = health(load_event("health/health.json"))

    assert set(body) == {"configured", "ttl"}
    [line] = [json.loads(line) for line in logs.lines if "No Daily API key" in line]
    assert line["level"] == "WARNING"
    assert "When the page says room creation is unavailable" in line["message"]
    assert "docs/operations.md" in line["message"]
    guide = (ROOT / "docs" / "operations.md").read_text()
    assert "## When the page says room creation is unavailable\n" in guide


def test_health_rejects_other_methods(fresh_stack, health):
    event = load_event("health/health.json")
    event["requestContext"]["http"]["method"] = "POST"
    status, headers, body = health(event)

    assert (status, headers["Allow"], body["error"]) == (405, "GET", "method_not_allowed")


def test_unknown_path_is_a_json_404(fresh_stack, health):
    event = load_event("health/health.json")
    event["rawPath"] = event["requestContext"]["http"]["path"] = "/api/nope"
    status, _, body = health(event)

    assert (status, body["error"]) == (404, "not_found")
