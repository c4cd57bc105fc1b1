"""Safe on the internet: per-viewer and daily limits, no CDN bypass, idempotent retries, tokens."""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import hmac
import json
import uuid

import pytest

from daily_rooms.rate_limiter import Limits
from tests.helpers import Invoker, load_event


def create_event(**headers: str) -> dict:
    event = load_event("create_room/create_no_body.json")
    event["headers"] = {**event["headers"], **headers}
    return event


@pytest.fixture
def limits(create_room: Invoker, monkeypatch: pytest.MonkeyPatch):
    """Set the create function's limits for one test."""

    def set_limits(per_viewer: int, per_day: int, window: int = 600) -> None:
        limiter = create_room.module.creator.limiter
        monkeypatch.setattr(limiter, "limits", Limits(per_viewer, window, per_day))

    return set_limits


def test_viewer_gets_429_after_the_limit_and_others_are_unaffected(
    fresh_stack, create_room, limits
):
    limits(per_viewer=3, per_day=100)
    answers = [create_room(create_event(), viewer="203.0.113.5") for _ in range(4)]

    assert [status for status, _, _ in answers] == [201, 201, 201, 429]
    _, headers, body = answers[-1]
    assert body["error"] == "rate_limited"
    assert "3 rooms every 10 minutes" in body["message"]
    assert 0 < int(headers["Retry-After"]) <= 600
    assert create_room(create_event(), viewer="203.0.113.6")[0] == 201
    assert len(fresh_stack.daily.rooms) == 4


def test_daily_cap_holds_across_viewers(fresh_stack, create_room, limits):
    limits(per_viewer=5, per_day=2)
    statuses = [create_room(create_event(), viewer=f"192.0.2.{n}")[0] for n in range(4)]
    status, headers, body = create_room(create_event(), viewer="192.0.2.99")

    assert statuses == [201, 201, 429, 429]
    assert (status, body["error"]) == (429, "rate_limited")
    assert "today" in body["message"]
    assert int(headers["Retry-After"]) <= 86_400
    assert len(fresh_stack.daily.rooms) == 2


def test_a_refused_create_does_not_use_up_the_viewers_quota(fresh_stack, create_room, limits):
    limits(per_viewer=1, per_day=1)
    create_room(create_event(), viewer="192.0.2.1")
    refused = create_room(create_event(), viewer="192.0.2.2")
    limits(per_viewer=1, per_day=5)

    assert refused[0] == 429
    assert create_room(create_event(), viewer="192.0.2.2")[0] == 201


def test_ipv6_viewers_are_limited_per_64_prefix(fresh_stack, create_room, limits):
    limits(per_viewer=1, per_day=100)
    first = create_room(create_event(), viewer="2001:db8:1:2::10")
    same_64 = create_room(create_event(), viewer="2001:db8:1:2:ffff::1")

    assert (first[0], same_64[0]) == (201, 429)


def test_rooms_are_counted_per_viewer_address_not_per_edge(fresh_stack, create_room, limits):
    limits(per_viewer=1, per_day=100)
    event = create_event()
    event["requestContext"]["http"]["sourceIp"] = "130.176.0.1"  # a CloudFront edge address

    assert create_room(event, viewer="198.51.100.1")[0] == 201
    assert create_room(event, viewer="198.51.100.2")[0] == 201


@pytest.mark.parametrize("value", [None, "", "wrong", "x" * 64])
def test_calls_that_skip_the_cdn_are_refused(fresh_stack, create_room, health, value):
    headers = {} if value is None else {"x-origin-verify": value}
    answers = [
        create_room(create_event(**headers), via_cdn=False),
        health({**load_event("health/health.json")} | {"headers": headers}, via_cdn=False),
    ]

    for status, _, body in answers:
        assert (status, body["error"]) == (403, "forbidden")
        assert body["requestId"]
    assert fresh_stack.daily.calls() == []


def test_calls_with_the_origin_header_pass(fresh_stack, create_room, health):
    headers = {"x-origin-verify": fresh_stack.origin_secret}

    assert create_room(create_event(**headers), via_cdn=False)[0] == 201
    assert health(load_event("health/health.json") | {"headers": headers}, via_cdn=False)[0] == 200


def test_viewer_header_is_ignored_without_the_origin_check(fresh_stack, create_room, limits):
    """A caller cannot pick its own viewer address when the check is off (sam local invoke)."""
    limits(per_viewer=1, per_day=100)
    origin = create_room.module.origin
    try:
        origin.secret_id = ""
        answers = [
            create_room(
                create_event(**{"cloudfront-viewer-address": f"192.0.2.{n}:1"}), via_cdn=False
            )
            for n in range(2)
        ]
    finally:
        origin.secret_id = fresh_stack.env["ORIGIN_VERIFY_SECRET"]

    assert [status for status, _, _ in answers] == [201, 429]


def test_same_idempotency_key_twice_makes_one_room_and_the_same_answer(fresh_stack, create_room):
    key = str(uuid.uuid4())
    first = create_room(create_event(**{"idempotency-key": key}))
    second = create_room(create_event(**{"idempotency-key": key}))

    assert first[0] == second[0] == 201
    assert first[2] == second[2]
    assert list(fresh_stack.daily.rooms) == [first[2]["name"]]
    assert len(fresh_stack.daily.calls(method="POST", path_prefix="/rooms")) == 1


def test_same_key_from_another_viewer_is_another_request(fresh_stack, create_room):
    key = str(uuid.uuid4())
    mine = create_room(create_event(**{"idempotency-key": key}), viewer="192.0.2.10")
    theirs = create_room(create_event(**{"idempotency-key": key}), viewer="192.0.2.11")

    assert mine[2]["name"] != theirs[2]["name"]
    assert mine[2]["ownerToken"] != theirs[2]["ownerToken"]


def test_same_key_with_another_body_is_refused(fresh_stack, create_room):
    key = str(uuid.uuid4())
    event = create_event(**{"idempotency-key": key})
    assert create_room(event)[0] == 201
    event["body"] = '{"ttl_seconds": 900}'
    status, _, body = create_room(event)

    assert (status, body["error"]) == (400, "invalid_request")
    assert "already used" in body["message"]


@pytest.mark.parametrize("key", ["short", "has space in it", "ünïcödé-key-123", "k" * 129])
def test_malformed_idempotency_keys_are_refused(fresh_stack, create_room, key):
    status, _, body = create_room(create_event(**{"idempotency-key": key}))

    assert (status, body["error"]) == (400, "invalid_request")
    assert fresh_stack.daily.calls() == []


def test_a_failed_create_can_be_retried_with_the_same_key(fresh_stack, create_room):
    key = str(uuid.uuid4())
    fresh_stack.daily.inject(method="POST", path_prefix="/rooms", status=400)
    failed = create_room(create_event(**{"idempotency-key": key}))
    retried = create_room(create_event(**{"idempotency-key": key}))

    assert (failed[0], retried[0]) == (502, 201)


def jwt_claims(token: str, key: str) -> dict:
    header, payload, signature = token.split(".")
    expected = hmac.new(key.encode(), f"{header}.{payload}".encode(), hashlib.sha256).digest()
    assert base64.urlsafe_b64decode(signature + "==") == expected
    return json.loads(base64.urlsafe_b64decode(payload + "=="))


def test_creator_gets_an_owner_token_for_that_room_only(fresh_stack, create_room):
    status, _, body = create_room(create_event())

    claims = jwt_claims(body["ownerToken"], fresh_stack.api_key)
    assert status == 201
    assert claims["r"] == body["name"]  # Daily's payload uses short claim names
    assert claims["o"] is True
    assert claims["exp"] == body["exp"]
    assert body["ownerToken"] not in body["url"]


def test_owner_tokens_can_be_turned_off(fresh_stack, create_room, monkeypatch):
    creator = create_room.module.creator
    monkeypatch.setattr(
        creator, "settings", dataclasses.replace(creator.settings, owner_tokens=False)
    )
    status, _, body = create_room(create_event())

    assert (status, set(body)) == (201, {"name", "url", "exp"})
    assert fresh_stack.daily.calls(path_prefix="/meeting-tokens") == []


def test_room_is_still_answered_when_the_token_call_fails(fresh_stack, create_room):
    fresh_stack.daily.inject(method="POST", path_prefix="/meeting-tokens", status=400)
    status, _, body = create_room(create_event())

    assert status == 201
    assert "ownerToken" not in body
    assert body["name"] in fresh_stack.daily.rooms
