"""Idempotent by construction: with an Idempotency-Key the room's name is derived on the server,
so a retry after any failure names the same room, and its marker makes a repeat spend no quota."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable

import pytest

from daily_rooms.quota import KEY_RETENTION_SECONDS
from daily_rooms.rooms import derived_name
from localdev import functions
from localdev.local_stack import NAMING_SECRET_NAME, STATE_TABLE
from tests.helpers import DailyTransport, Invoker, MovableClock
from tests.helpers.creates import (
    create_event,
    keyed,
    state_items,
    verified_claims,
    with_limits,
)


@pytest.fixture
def short_timeouts(create_room) -> Invoker:
    """Read timeout short enough for the emulator's delay fault to trip it quickly."""
    return create_room.new(connect_timeout=1.0, read_timeout=0.5)


def test_same_key_twice_makes_one_room_spends_one_quota_and_answers_the_same(
    fresh_stack, create_room
):
    key = str(uuid.uuid4())
    first = create_room(keyed(key))
    second = create_room(keyed(key))

    assert first[0] == second[0] == 201
    assert {k: first[2][k] for k in ("name", "url", "exp")} == {
        k: second[2][k] for k in ("name", "url", "exp")
    }
    for answer in (first, second):
        assert (
            verified_claims(fresh_stack, answer[2]["ownerToken"])["room_name"] == first[2]["name"]
        )
    assert list(fresh_stack.daily.rooms) == [first[2]["name"]]
    assert state_items(fresh_stack) == {"key": 1, "viewer": 1, "day": 1}


def test_a_repeat_is_answered_even_when_the_quota_is_used_up(fresh_stack, create_room):
    create_room = with_limits(create_room, per_viewer=1, per_day=100)
    key = str(uuid.uuid4())
    first = create_room(keyed(key))

    assert create_room(keyed(str(uuid.uuid4())))[0] == 429
    assert create_room(keyed(key))[2]["name"] == first[2]["name"]


def test_same_key_from_another_viewer_is_another_request(fresh_stack, create_room):
    key = str(uuid.uuid4())
    mine = create_room(keyed(key), viewer="192.0.2.10")
    theirs = create_room(keyed(key), viewer="192.0.2.11")

    assert mine[2]["name"] != theirs[2]["name"]
    assert mine[2]["ownerToken"] != theirs[2]["ownerToken"]


def test_same_key_with_another_body_is_refused(fresh_stack, create_room):
    key = str(uuid.uuid4())
    assert create_room(keyed(key))[0] == 201
    status, _, body = create_room(keyed(key, '{"ttl_seconds": 900}'))

    assert (status, body["error"]) == (400, "invalid_request")
    assert "already used" in body["message"]
    assert len(fresh_stack.daily.rooms) == 1


def test_derived_names_are_keyed_by_the_room_naming_secret(fresh_stack, create_room):
    """Not derivable from the client's data alone: HMAC under a generated secret used for nothing
    else (not the origin-verify value, which travels in a header on every request)."""
    key = str(uuid.uuid4())
    name = create_room(keyed(key), viewer="192.0.2.20")[2]["name"]
    exp = fresh_stack.daily.rooms[name]["config"]["exp"]

    parts = ("room", "192.0.2.20", key, exp)
    assert name == derived_name(fresh_stack.naming_secret.encode(), *parts)
    assert name != derived_name(fresh_stack.origin_secret.encode(), *parts)


def test_without_the_room_naming_secret_keyed_creates_are_refused_before_any_quota(
    fresh_stack, create_room
):
    secretsmanager = fresh_stack.client("secretsmanager")
    secretsmanager.delete_secret(SecretId=NAMING_SECRET_NAME, ForceDeleteWithoutRecovery=True)
    try:
        keyed_answer = create_room(keyed(str(uuid.uuid4())))
        unkeyed_answer = create_room(create_event())
        state = state_items(fresh_stack)
    finally:
        secretsmanager.create_secret(
            Name=NAMING_SECRET_NAME, SecretString=fresh_stack.naming_secret
        )

    assert (keyed_answer[0], keyed_answer[2]["error"]) == (503, "secret_unavailable")
    assert unkeyed_answer[0] == 201  # a random name needs no naming key
    assert state == {"viewer": 1, "day": 1}


@pytest.mark.parametrize("key", ["short", "has space in it", "ünïcödé-key-123", "k" * 129])
def test_malformed_idempotency_keys_are_refused(fresh_stack, create_room, key):
    status, _, body = create_room(keyed(key))

    assert (status, body["error"]) == (400, "invalid_request")
    assert fresh_stack.daily.calls() == []


def losing_answers(create_room: Invoker, times: int) -> Invoker:
    """A container whose next `times` POST /rooms reach Daily, which creates the room, but whose
    answers are lost."""
    return create_room.new(daily_session=DailyTransport(lose=times).session())


def every_answer_lost(stack, create_room: Invoker) -> Invoker:
    return losing_answers(create_room, times=3)


def daily_500(stack, create_room: Invoker) -> Invoker:
    stack.daily.inject(method="POST", path_prefix="/rooms", status=500, times=3)
    return create_room


def daily_timeout(stack, create_room: Invoker) -> Invoker:
    stack.daily.inject(method="POST", path_prefix="/rooms", delay=1.0, times=3)
    return create_room


def deadline_spent_after_the_write(stack, create_room: Invoker) -> Invoker:
    events = create_room.wiring["dynamodb"].meta.events
    deadline = functions.settings().request_deadline

    def late(**_) -> None:
        events.unregister("after-call.dynamodb.TransactWriteItems", late)
        time.sleep(deadline)

    events.register("after-call.dynamodb.TransactWriteItems", late)
    return create_room


FAILURES: dict[str, tuple[Callable[..., Invoker], int, str]] = {
    "lost answer": (every_answer_lost, 502, "upstream_error"),
    "Daily 5xx": (daily_500, 502, "upstream_error"),
    "Daily timeout": (daily_timeout, 504, "upstream_timeout"),
    "spent deadline": (deadline_spent_after_the_write, 504, "upstream_timeout"),
}


@pytest.mark.parametrize("failure", FAILURES.values(), ids=FAILURES.keys())
def test_a_retry_after_any_failure_gets_the_same_single_room(fresh_stack, short_timeouts, failure):
    setup, status, error = failure
    key = str(uuid.uuid4())
    failed = setup(fresh_stack, short_timeouts)(keyed(key))
    fresh_stack.daily.wait_idle()
    retried = short_timeouts(keyed(key))
    again = short_timeouts(keyed(key))

    assert (failed[0], failed[2]["error"]) == (status, error)
    assert retried[0] == again[0] == 201
    assert retried[2]["name"] == again[2]["name"]
    assert retried[2]["exp"] == again[2]["exp"]
    assert list(fresh_stack.daily.rooms) == [retried[2]["name"]]
    assert fresh_stack.daily.rooms[retried[2]["name"]]["config"]["exp"] == retried[2]["exp"]
    assert state_items(fresh_stack) == {"key": 1, "viewer": 1, "day": 1}
    assert verified_claims(fresh_stack, again[2]["ownerToken"])["room_name"] == again[2]["name"]


def test_a_lost_answer_inside_one_create_is_recovered_by_its_own_retry(fresh_stack, create_room):
    """POST /rooms created the room but its answer was lost: the next attempt finds it."""
    status, _, body = losing_answers(create_room, times=1)(keyed(str(uuid.uuid4())))

    assert status == 201
    assert list(fresh_stack.daily.rooms) == [body["name"]]
    posts = fresh_stack.daily.calls(method="POST", path_prefix="/rooms")
    assert [call.status for call in posts] == [200, 400]  # created, then "already exists"


def test_concurrent_repeats_make_one_room(fresh_stack, create_room):
    key = str(uuid.uuid4())
    answers: list[tuple] = []
    threads = [
        threading.Thread(target=lambda: answers.append(create_room(keyed(key)))) for _ in range(4)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(status for status, _, _ in answers) == [201] * 4
    assert len({body["name"] for _, _, body in answers}) == 1
    assert len(fresh_stack.daily.rooms) == 1
    assert state_items(fresh_stack) == {"key": 1, "viewer": 1, "day": 1}


def test_a_repeat_after_the_room_ended_is_refused_not_made_again(fresh_stack, create_room):
    clock = MovableClock()  # the function's, not the emulator's
    create_room = create_room.new(clock=clock)
    key = str(uuid.uuid4())
    first = create_room(keyed(key, '{"ttl_seconds": 60}'))
    clock.ahead = 61
    status, _, body = create_room(keyed(key, '{"ttl_seconds": 60}'))

    assert first[0] == 201
    assert (status, body["error"]) == (409, "idempotency_key_expired")
    assert len(fresh_stack.daily.rooms) == 1


def test_a_key_used_again_once_its_marker_is_gone_names_a_new_room(fresh_stack, create_room):
    """TTL deletion is lazy: the condition compares `expiration`, so a stale marker (still in the
    table) lets the key start over: a new room, counted again. Its name comes from the new `exp`,
    so it never meets the old room, which Daily may still hold: expired rooms are "treated as
    having been implicitly deleted" and collected later (reference/rest-api/rooms/delete-room)."""
    clock = MovableClock()
    create_room = create_room.new(clock=clock)
    key, later = str(uuid.uuid4()), 60 + KEY_RETENTION_SECONDS
    first = create_room(keyed(key, '{"ttl_seconds": 60}'))
    clock.ahead = later
    second = create_room(keyed(key, '{"ttl_seconds": 60}'))

    assert first[0] == second[0] == 201
    assert 0 <= second[2]["exp"] - first[2]["exp"] - later <= 5  # the creates' own seconds apart
    assert second[2]["name"] != first[2]["name"]
    posted = [call.body["name"] for call in fresh_stack.daily.calls("POST", "/rooms")]
    assert posted == [first[2]["name"], second[2]["name"]]  # the old name was not asked again
    assert set(fresh_stack.daily.rooms) == {first[2]["name"], second[2]["name"]}
    items = fresh_stack.client("dynamodb").scan(TableName=STATE_TABLE)["Items"]
    assert len([item for item in items if item["id"]["S"].startswith("key#")]) == 1
    assert state_items(fresh_stack)["day"] == 2
