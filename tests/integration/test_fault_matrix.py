"""Every dependency fault, its answer, and what it cost: Daily calls made and time spent.

Daily faults come from the emulator (or a closed port); Secrets Manager and DynamoDB faults the
emulators cannot produce are raised inside the real boto3 clients through botocore's events.
"""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from types import ModuleType

import pytest
from aws_lambda_powertools.utilities import parameters
from botocore.awsrequest import AWSResponse
from botocore.exceptions import EndpointConnectionError

from localdev.local_stack import SECRET_NAME, LocalStack
from tests.helpers import Invoker, load_event

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
        provider = parameters.base.DEFAULT_PROVIDERS["secrets"]  # made by the warm-up call
        provider.clear_cache()
        events = provider.client.meta.events

        def fail(**_) -> tuple[AWSResponse, dict]:
            error = {"Error": {"Code": code, "Message": "injected"}}
            return AWSResponse("https://secretsmanager.invalid", 400, {}, None), error

        events.register_first("before-call.secrets-manager.GetSecretValue", fail)
        return lambda: events.unregister("before-call.secrets-manager.GetSecretValue", fail)

    return setup


def secret_missing(stack: LocalStack, module: ModuleType, monkeypatch: pytest.MonkeyPatch) -> Undo:
    secretsmanager = stack.client("secretsmanager")
    secretsmanager.delete_secret(SecretId=SECRET_NAME, ForceDeleteWithoutRecovery=True)
    parameters.clear_caches()
    return lambda: secretsmanager.create_secret(Name=SECRET_NAME, SecretString="{}")


def secret_empty(stack: LocalStack, module: ModuleType, monkeypatch: pytest.MonkeyPatch) -> None:
    stack.set_configured(False)


def dynamodb_down(stack: LocalStack, module: ModuleType, monkeypatch: pytest.MonkeyPatch) -> Undo:
    def unreachable(request, **_) -> None:
        raise EndpointConnectionError(endpoint_url=request.url)

    events = module.dynamodb.meta.events
    events.register_first("before-send.dynamodb", unreachable)
    return lambda: events.unregister("before-send.dynamodb", unreachable)


FAULTS = [
    Fault("Daily times out", daily_fault(delay=1.5), 504, "upstream_timeout", 4),
    Fault("Daily refuses connections", daily_refused, 502, "upstream_error", 4),
    Fault("Daily 500", daily_fault(status=500), 502, "upstream_error", 4),
    Fault("Daily 502", daily_fault(status=502), 502, "upstream_error", 4),
    Fault("Daily 503", daily_fault(status=503), 502, "upstream_error", 4),
    Fault("Daily 500 once, then fine", daily_fault(times=1, status=500), 201, None, 2),
    Fault(
        "Daily 429 without Retry-After",
        daily_fault(status=429),
        503,
        "upstream_busy",
        4,
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
]


@pytest.fixture
def posts_to_rooms(create_room: Invoker, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every POST /rooms attempt the Daily client makes, reachable or not."""
    attempts: list[str] = []
    session = create_room.module.creator.daily.session
    send = session.request

    def counting(method: str, url: str, *args, **kwargs):
        if method == "POST" and url.endswith("/rooms"):
            attempts.append(url)
        return send(method, url, *args, **kwargs)

    monkeypatch.setattr(session, "request", counting)
    monkeypatch.setattr(create_room.module.creator.daily, "timeout", (1.0, 0.5))
    return attempts


@pytest.mark.parametrize("fault", FAULTS, ids=lambda f: f.name)
def test_fault_matrix(fresh_stack, create_room, posts_to_rooms, monkeypatch, fault: Fault):
    module = create_room.module
    module.creator.api_key.get()  # warm: the key is cached, as in a reused container
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
    assert len(posts_to_rooms) == fault.room_posts
    assert elapsed < module.settings.daily_deadline
    fresh_stack.daily.wait_idle()
    assert len(fresh_stack.daily.rooms) <= 1
    if status == 201:
        assert body["name"] in fresh_stack.daily.rooms
