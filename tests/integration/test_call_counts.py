"""What one create costs in external calls: a warm create is one DynamoDB write and one Daily
POST; a cold one adds one Secrets Manager call and, unless the secret holds the domain, `GET /v1/`.

AWS calls are counted as HTTP requests with botocore's events on the handler's own clients, Daily
calls in the emulator's request log.
"""

from __future__ import annotations

import json
import uuid
from collections import Counter

import pytest

from tests.helpers import Invoker
from tests.helpers.creates import create_event, keyed


def measured(stack, create_room: Invoker, event: dict) -> Counter:
    """The create's external calls (HTTP requests), by "service operation" or "METHOD path"."""
    sent: Counter = Counter()

    def counted(event_name: str, **_) -> None:  # before-send.<service>.<operation>
        sent[" ".join(event_name.split(".")[1:])] += 1

    clients = [create_room.wiring["secretsmanager"], create_room.wiring["dynamodb"]]
    for client in clients:
        client.meta.events.register("before-send", counted)
    before = len(stack.daily.requests_log)
    try:
        status, _, body = create_room(event)
    finally:
        for client in clients:
            client.meta.events.unregister("before-send", counted)
    assert status == 201, body
    daily = Counter(f"{r.method} {r.path}" for r in stack.daily.requests_log[before:])
    return sent + daily


@pytest.fixture
def cold_create_room(create_room: Invoker) -> Invoker:
    """A new container: nothing cached."""
    return create_room.new()


@pytest.mark.parametrize("with_key", [True, False], ids=["with Idempotency-Key", "without"])
def test_a_warm_create_is_one_dynamodb_write_and_one_daily_post(fresh_stack, create_room, with_key):
    create_room(create_event())  # warm: secrets and domain known
    event = keyed(str(uuid.uuid4())) if with_key else create_event()

    calls = measured(fresh_stack, create_room, event)

    assert calls == Counter({"dynamodb TransactWriteItems": 1, "POST /v1/rooms": 1})


def test_a_cold_create_makes_at_most_four_external_calls(fresh_stack, cold_create_room):
    calls = measured(fresh_stack, cold_create_room, keyed(str(uuid.uuid4())))

    assert calls == Counter(
        {
            "secrets-manager BatchGetSecretValue": 1,
            "GET /v1/": 1,
            "dynamodb TransactWriteItems": 1,
            "POST /v1/rooms": 1,
        }
    )
    assert sum(calls.values()) <= 4


def test_a_cold_create_with_the_domain_in_the_secret_makes_three(fresh_stack, cold_create_room):
    daily = fresh_stack.daily
    stored = {
        "apiKey": fresh_stack.api_key,
        "domainId": daily.domain_id,
        "domainName": daily.domain,
    }
    fresh_stack.set_secret(json.dumps(stored))

    calls = measured(fresh_stack, cold_create_room, create_event())

    assert calls == Counter(
        {
            "secrets-manager BatchGetSecretValue": 1,
            "dynamodb TransactWriteItems": 1,
            "POST /v1/rooms": 1,
        }
    )


def test_a_repeat_is_one_dynamodb_write_and_two_daily_calls(fresh_stack, create_room):
    """The write finds the marker (no quota spent); POST says "already exists"; GET the room."""
    key = str(uuid.uuid4())
    create_room(keyed(key))

    calls = measured(fresh_stack, create_room, keyed(key))

    assert calls["dynamodb TransactWriteItems"] == 1
    assert sum(count for call, count in calls.items() if "/v1/" in call) == 2
