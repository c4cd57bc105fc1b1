"""Every dependency fault, its answer, and what it cost: Daily calls made and time spent.

Daily faults come from the emulator (or a closed port); Secrets Manager and DynamoDB that never
answer are real loopback listeners; other AWS faults the emulators cannot produce are raised
inside the real boto3 clients through botocore's events.
"""

from __future__ import annotations

import dataclasses
import json
import socket
import time
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

import boto3
import pytest
from botocore.awsrequest import AWSResponse
from botocore.exceptions import EndpointConnectionError

from daily_rooms.daily_client import MAX_CALLS, Budget
from daily_rooms.deadline import Deadline, bind_to_deadline
from localdev.local_stack import SECRET_NAME, LocalStack
from tests.helpers import Invoker, load_event, silent_endpoint

Undo = Callable[[], object]
Setup = Callable[[LocalStack, ModuleType, pytest.MonkeyPatch], Undo | None]


@dataclass(frozen=True)
class Fault:
    name: str
    setup: Setup
    status: int
    error: str | None
    room_posts: int
    headers: dict[str, str] = field(default_factory=dict)


def daily_fault(times: int = 10, **fault) -> Setup:
    def setup(stack: LocalStack, module: ModuleType, monkeypatch: pytest.MonkeyPatch) -> None:
        stack.daily.inject(method="POST", path_prefix="/rooms", times=times, **fault)

    return setup


def daily_refused(stack: LocalStack, module: ModuleType, monkeypatch: pytest.MonkeyPatch) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    monkeypatch.setattr(module.creator.daily, "base_url", f"http://127.0.0.1:{port}/v1")


def key_rotated(stack: LocalStack, module: ModuleType, monkeypatch: pytest.MonkeyPatch) -> None:
    """The key changes at Daily and in the secret; the warm function still holds the old one."""
    new_key = "rotated-" + stack.api_key
    stack.daily.set_api_key(new_key)
    stack.client("secretsmanager").put_secret_value(
        SecretId=SECRET_NAME, SecretString=json.dumps({"apiKey": new_key})
    )
    monkeypatch.setattr(stack, "api_key", new_key)


def secret_error(code: str) -> Setup:
    def setup(stack: LocalStack, module: ModuleType, monkeypatch: pytest.MonkeyPatch) -> Undo:
        module.secrets.fetched_at = None  # the cached values are too old: read again
        events = module.secrets.client.meta.events

        def fail(**_) -> tuple[AWSResponse, dict]:
            error = {"Error": {"Code": code, "Message": "injected"}}
            return AWSResponse("https://secretsmanager.invalid", 400, {}, None), error

        events.register_first("before-call.secrets-manager.BatchGetSecretValue", fail)
        return lambda: events.unregister("before-call.secrets-manager.BatchGetSecretValue", fail)

    return setup


def secret_missing(stack: LocalStack, module: ModuleType, monkeypatch: pytest.MonkeyPatch) -> Undo:
    secretsmanager = stack.client("secretsmanager")
    secretsmanager.delete_secret(SecretId=SECRET_NAME, ForceDeleteWithoutRecovery=True)
    module.secrets.fetched_at = None
    return lambda: secretsmanager.create_secret(Name=SECRET_NAME, SecretString="{}")


def secret_empty(stack: LocalStack, module: ModuleType, monkeypatch: pytest.MonkeyPatch) -> None:
    stack.set_configured(False)


def dynamodb_down(stack: LocalStack, module: ModuleType, monkeypatch: pytest.MonkeyPatch) -> Undo:
    def unreachable(request, **_) -> None:
        raise EndpointConnectionError(endpoint_url=request.url)

    events = module.creator.quota.client.meta.events
    events.register_first("before-send.dynamodb", unreachable)
    return lambda: events.unregister("before-send.dynamodb", unreachable)


def never_answers(owner_of: Callable[[ModuleType], Any], service: str) -> Setup:
    """The service's endpoint is a real listener that accepts connections and never answers;
    the client keeps the function's own configuration (timeouts, retries) and deadline."""

    def setup(stack: LocalStack, module: ModuleType, monkeypatch: pytest.MonkeyPatch) -> Undo:
        module.secrets.fetched_at = None  # cold, so Secrets Manager is called too
        owner = owner_of(module)
        endpoint = ExitStack()
        url = endpoint.enter_context(silent_endpoint())
        client = boto3.client(service, endpoint_url=url, config=owner.client.meta.config)
        monkeypatch.setattr(owner, "client", bind_to_deadline(client))
        return endpoint.close

    return setup


def dynamodb_write_answers_late(
    stack: LocalStack, module: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> Undo:
    """The write succeeds, but its answer arrives when the deadline is spent."""
    events = module.creator.quota.client.meta.events

    def late(**_) -> None:
        time.sleep(module.settings.request_deadline)

    events.register("after-call.dynamodb.TransactWriteItems", late)
    return lambda: events.unregister("after-call.dynamodb.TransactWriteItems", late)


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
        never_answers(lambda module: module.creator.quota, "dynamodb"),
        503,
        "limiter_unavailable",
        0,
        {"Retry-After": "30"},
    ),
    Fault(
        "Secrets Manager never answers",
        never_answers(lambda module: module.secrets, "secretsmanager"),
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
def daily_calls(create_room: Invoker, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every call the Daily client makes, reachable or not, as "METHOD path"."""
    calls: list[str] = []
    daily = create_room.module.creator.daily
    send = daily.session.request

    def counting(method: str, url: str, *args, **kwargs):
        calls.append(f"{method} {url.removeprefix(daily.base_url)}")
        return send(method, url, *args, **kwargs)

    monkeypatch.setattr(daily.session, "request", counting)
    monkeypatch.setattr(daily, "timeout", (1.0, 0.5))
    return calls


@pytest.mark.parametrize("fault", FAULTS, ids=lambda f: f.name)
def test_fault_matrix(fresh_stack, create_room, daily_calls, monkeypatch, fault: Fault):
    module = create_room.module
    warm = Budget(Deadline(5))
    module.creator.daily.domain(module.secrets.daily_key(), warm)  # as in a reused container
    daily_calls.clear()
    undo = fault.setup(fresh_stack, module, monkeypatch)
    try:
        started = time.monotonic()
        status, headers, body = create_room(load_event("create_room/create.json"))
        elapsed = time.monotonic() - started
    finally:
        if undo:
            undo()

    assert status == fault.status
    assert body.get("error") == fault.error
    for name, value in fault.headers.items():
        assert headers[name] == value
    assert daily_calls.count("POST /rooms") == fault.room_posts <= 3
    assert len(daily_calls) <= MAX_CALLS == 4
    assert elapsed < module.settings.request_deadline + 1.5 < 10  # the function's timeout
    fresh_stack.daily.wait_idle()
    assert len(fresh_stack.daily.rooms) <= 1
    if status == 201:
        assert body["name"] in fresh_stack.daily.rooms


def test_a_cold_create_never_makes_more_than_four_daily_calls(
    fresh_stack, create_room, daily_calls
):
    """Cold: `GET /v1/`, then POSTs failing, then "already exists" would need a fifth call."""
    create_room.module.creator.daily._domain = None
    exists = {"error": "invalid-request-error", "info": "a room named x already exists"}
    fresh_stack.daily.inject(method="POST", path_prefix="/rooms", status=500, times=2)
    fresh_stack.daily.inject(method="POST", path_prefix="/rooms", status=400, body=exists)
    status, _, body = create_room(load_event("create_room/create.json"))

    assert (status, body["error"]) == (502, "upstream_error")
    assert daily_calls == ["GET /", "POST /rooms", "POST /rooms"]


@pytest.mark.parametrize(
    ("owner_of", "service", "error"),
    [
        (lambda module: module.creator.quota, "dynamodb", "limiter_unavailable"),
        (lambda module: module.secrets, "secretsmanager", "secret_unavailable"),
    ],
    ids=["DynamoDB", "Secrets Manager"],
)
def test_an_aws_call_that_could_outlast_the_deadline_is_not_sent(
    fresh_stack, create_room, monkeypatch, owner_of, service, error
):
    """With a 1 s deadline, a call to a listener that never answers is not even sent: one attempt
    may take 1.5 s (its client's connect and read timeouts). The answer is a JSON 503 at once."""
    module = create_room.module
    monkeypatch.setattr(
        module, "settings", dataclasses.replace(module.settings, request_deadline=1.0)
    )
    undo = never_answers(owner_of, service)(fresh_stack, module, monkeypatch)
    if service == "dynamodb":
        module.secrets.daily_key()  # warm: the write is the request's first AWS call
    try:
        started = time.monotonic()
        status, headers, body = create_room(load_event("create_room/create.json"))
        elapsed = time.monotonic() - started
    finally:
        undo()

    assert (status, body["error"]) == (503, error)
    assert headers["Content-Type"] == "application/json"
    assert elapsed < 1.0 + 0.5
