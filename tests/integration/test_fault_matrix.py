"""Every dependency fault, its answer, and what it cost: Daily calls made and time spent.

Daily faults come from the emulator (or a closed port); Secrets Manager and DynamoDB that never
answer are real loopback listeners; other AWS faults the emulators cannot produce are raised
inside the real boto3 clients through botocore's events.
"""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import boto3
import pytest
from botocore.awsrequest import AWSResponse
from botocore.exceptions import EndpointConnectionError

from daily_rooms import quota, stored_secrets
from daily_rooms.daily_client import MAX_CALLS
from daily_rooms.deadline import bind_to_deadline
from localdev import functions
from localdev.local_stack import SECRET_NAME, LocalStack
from tests.helpers import DailyTransport, Invoker, load_event, silent_endpoint

# (stack, the test's container, cleanups) -> the container the faulty create runs in.
Setup = Callable[[LocalStack, Invoker, ExitStack], Invoker]


@dataclass(frozen=True)
class Fault:
    name: str
    setup: Setup
    status: int
    error: str | None
    room_posts: int
    headers: dict[str, str] = field(default_factory=dict)


def daily_fault(times: int = 10, **fault) -> Setup:
    def setup(stack: LocalStack, create_room: Invoker, undo: ExitStack) -> Invoker:
        stack.daily.inject(method="POST", path_prefix="/rooms", times=times, **fault)
        return create_room

    return setup


def daily_refused(stack: LocalStack, create_room: Invoker, undo: ExitStack) -> Invoker:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return create_room.new(daily_api_url=f"http://127.0.0.1:{port}/v1")


def key_rotated(stack: LocalStack, create_room: Invoker, undo: ExitStack) -> Invoker:
    """The key changes at Daily and in the secret; the warm function still holds the old one."""
    assert create_room(load_event("create_room/create.json"))[0] == 201  # now warm
    stack.daily.reset()
    new_key = "rotated-" + stack.api_key
    stack.daily.set_api_key(new_key)
    stack.client("secretsmanager").put_secret_value(
        SecretId=SECRET_NAME, SecretString=json.dumps({"apiKey": new_key})
    )
    undo.callback(setattr, stack, "api_key", stack.api_key)
    stack.api_key = new_key
    return create_room


def secret_error(code: str) -> Setup:
    def setup(stack: LocalStack, create_room: Invoker, undo: ExitStack) -> Invoker:
        events = create_room.wiring["secretsmanager"].meta.events

        def fail(**_) -> tuple[AWSResponse, dict]:
            error = {"Error": {"Code": code, "Message": "injected"}}
            return AWSResponse("https://secretsmanager.invalid", 400, {}, None), error

        events.register_first("before-call.secrets-manager.BatchGetSecretValue", fail)
        undo.callback(events.unregister, "before-call.secrets-manager.BatchGetSecretValue", fail)
        return create_room

    return setup


def secret_missing(stack: LocalStack, create_room: Invoker, undo: ExitStack) -> Invoker:
    secretsmanager = stack.client("secretsmanager")
    secretsmanager.delete_secret(SecretId=SECRET_NAME, ForceDeleteWithoutRecovery=True)
    undo.callback(secretsmanager.create_secret, Name=SECRET_NAME, SecretString="{}")
    return create_room


def secret_empty(stack: LocalStack, create_room: Invoker, undo: ExitStack) -> Invoker:
    stack.set_configured(False)
    return create_room


def dynamodb_down(stack: LocalStack, create_room: Invoker, undo: ExitStack) -> Invoker:
    def unreachable(request, **_) -> None:
        raise EndpointConnectionError(endpoint_url=request.url)

    events = create_room.wiring["dynamodb"].meta.events
    events.register_first("before-send.dynamodb", unreachable)
    undo.callback(events.unregister, "before-send.dynamodb", unreachable)
    return create_room


def never_answers(service: str) -> Setup:
    """The service's endpoint is a real listener that accepts connections and never answers;
    the client keeps the function's own configuration (timeouts, retries) and deadline."""
    modules = {"dynamodb": quota, "secretsmanager": stored_secrets}

    def setup(stack: LocalStack, create_room: Invoker, undo: ExitStack) -> Invoker:
        url = undo.enter_context(silent_endpoint())
        config = modules[service].CLIENT_CONFIG
        client = bind_to_deadline(boto3.client(service, endpoint_url=url, config=config))
        return create_room.new(**{service: client})

    return setup


def dynamodb_write_answers_late(
    stack: LocalStack, create_room: Invoker, undo: ExitStack
) -> Invoker:
    """The write succeeds, but its answer arrives when the deadline is spent."""
    events = create_room.wiring["dynamodb"].meta.events
    deadline = functions.settings().request_deadline

    def late(**_) -> None:
        time.sleep(deadline)

    events.register("after-call.dynamodb.TransactWriteItems", late)
    undo.callback(events.unregister, "after-call.dynamodb.TransactWriteItems", late)
    return create_room


FAULTS = [
    Fault("Daily times out", daily_fault(delay=1.5), 504, "upstream_timeout", 3),
    Fault("Daily refuses connections", daily_refused, 502, "upstream_error", 3),
    Fault("Daily 500", daily_fault(status=500), 502, "upstream_error", 3),
    Fault("Daily 502", daily_fault(status=502), 502, "upstream_error", 3),
    Fault("Daily 503", daily_fault(status=503), 502, "upstream_error", 3),
    Fault("Daily 500 once, then fine", daily_fault(times=1, status=500), 201, None, 2),
    Fault(
        "Daily 429 without Retry-After",
        daily_fault(status=429),
        503,
        "upstream_busy",
        3,
        {"Retry-After": "2"},
    ),
    Fault(
        "Daily 429 with a Retry-After beyond the deadline",
        daily_fault(status=429, headers={"Retry-After": "30"}),
        503,
        "upstream_busy",
        1,
        {"Retry-After": "30"},
    ),
    Fault(
        "Daily 429 with Retry-After 1, then fine",
        daily_fault(times=1, status=429, headers={"Retry-After": "1"}),
        201,
        None,
        2,
    ),
    Fault("Daily 401 with an unchanged key", daily_fault(status=401), 502, "upstream_auth", 1),
    Fault("Daily 401, then success after key rotation", key_rotated, 201, None, 2),
    Fault("Daily 400", daily_fault(status=400), 502, "upstream_rejected", 1),
    Fault("Daily malformed JSON", daily_fault(malformed=True), 502, "upstream_error", 1),
    Fault("Secret missing", secret_missing, 503, "not_configured", 0),
    Fault("Secret empty", secret_empty, 503, "not_configured", 0),
    Fault(
        "Secret access denied",
        secret_error("AccessDeniedException"),
        503,
        "secret_unavailable",
        0,
        {"Retry-After": "5"},
    ),
    Fault(
        "Secret throttled",
        secret_error("ThrottlingException"),
        503,
        "secret_unavailable",
        0,
        {"Retry-After": "5"},
    ),
    Fault(
        "DynamoDB down",
        dynamodb_down,
        503,
        "limiter_unavailable",
        0,
        {"Retry-After": "30"},
    ),
    Fault(
        "DynamoDB never answers",
        never_answers("dynamodb"),
        503,
        "limiter_unavailable",
        0,
        {"Retry-After": "30"},
    ),
    Fault(
        "Secrets Manager never answers",
        never_answers("secretsmanager"),
        503,
        "secret_unavailable",
        0,
        {"Retry-After": "5"},
    ),
    Fault(
        "DynamoDB answers too late for Daily",
        dynamodb_write_answers_late,
        504,
        "upstream_timeout",
        0,
    ),
]


@pytest.fixture
def transport() -> DailyTransport:
    return DailyTransport()


@pytest.fixture
def create_room(create_room: Invoker, transport: DailyTransport) -> Invoker:
    """A container whose Daily calls are all seen, reachable or not, with short timeouts, on a
    secret that holds the key's domain: its creates go straight to `POST /rooms`."""
    daily = create_room.stack.daily
    key = {
        "apiKey": create_room.stack.api_key,
        "domainId": daily.domain_id,
        "domainName": daily.domain,
    }
    create_room.stack.set_secret(json.dumps(key))
    return create_room.new(daily_session=transport.session(), connect_timeout=1.0, read_timeout=0.5)


def daily_calls(transport: DailyTransport) -> list[str]:
    """Every call the Daily client made, as "METHOD path"."""
    return [f"{method} {urlsplit(url).path.removeprefix('/v1')}" for method, url in transport.sent]


@pytest.mark.parametrize("fault", FAULTS, ids=lambda f: f.name)
def test_fault_matrix(fresh_stack, create_room, transport, fault: Fault):
    with ExitStack() as undo:
        container = fault.setup(fresh_stack, create_room, undo)
        transport.sent.clear()
        started = time.monotonic()
        status, headers, body = container(load_event("create_room/create.json"))
        elapsed = time.monotonic() - started

    assert status == fault.status
    assert body.get("error") == fault.error
    for name, value in fault.headers.items():
        assert headers[name] == value
    calls = daily_calls(transport)
    assert calls.count("POST /rooms") == fault.room_posts <= 3
    assert len(calls) <= MAX_CALLS == 4
    assert elapsed < functions.settings().request_deadline + 1.5 < 10  # the function's timeout
    fresh_stack.daily.wait_idle()
    assert len(fresh_stack.daily.rooms) <= 1
    if status == 201:
        assert body["name"] in fresh_stack.daily.rooms


def test_a_cold_create_never_makes_more_than_four_daily_calls(fresh_stack, create_room, transport):
    """Cold: `GET /v1/`, then POSTs failing, then "already exists" would need a fifth call."""
    fresh_stack.set_configured(True)  # the key alone: its domain must be asked
    exists = {"error": "invalid-request-error", "info": "a room named x already exists"}
    fresh_stack.daily.inject(method="POST", path_prefix="/rooms", status=500, times=2)
    fresh_stack.daily.inject(method="POST", path_prefix="/rooms", status=400, body=exists)
    status, _, body = create_room(load_event("create_room/create.json"))

    assert (status, body["error"]) == (502, "upstream_error")
    assert daily_calls(transport) == ["GET /", "POST /rooms", "POST /rooms"]


@pytest.mark.parametrize(
    ("service", "error", "deadline"),
    [("dynamodb", "limiter_unavailable", 2.0), ("secretsmanager", "secret_unavailable", 1.0)],
    ids=["DynamoDB", "Secrets Manager"],
)
def test_an_aws_call_that_never_answers_ends_within_the_deadline(
    fresh_stack, create_room, service, error, deadline
):
    """A listener that never answers costs at most one attempt (1.5 s, its client's connect and
    read timeouts), and only when that attempt fits: with 1 s left the secrets' read is not even
    sent; with 2 s the write is sent after the read and times out in time. A JSON 503 either way."""
    with ExitStack() as undo:
        silent = never_answers(service)(fresh_stack, create_room, undo)
        container = silent.new(request_deadline=deadline)
        started = time.monotonic()
        status, headers, body = container(load_event("create_room/create.json"))
        elapsed = time.monotonic() - started

    assert (status, body["error"]) == (503, error)
    assert headers["Content-Type"] == "application/json"
    assert elapsed < deadline + 0.5
