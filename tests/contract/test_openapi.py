"""The real handlers' answers, through the dev server, against docs/openapi.yaml: every status
and error code each route can give, reached with the local stack's own switches (the Daily
emulator's faults, the secrets and table in moto, botocore's events on the functions' clients).
"""

from __future__ import annotations

import inspect
import json
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass

import pytest
import requests
from botocore.awsrequest import AWSResponse
from botocore.exceptions import EndpointConnectionError
from openapi_spec_validator import validate

from daily_rooms import errors, quota, stored_secrets
from localdev import functions
from localdev import server as dev_server
from localdev.local_stack import ORIGIN_SECRET_NAME, LocalStack
from localdev.server import DevServer
from tests.helpers import CrashingSession, MovableClock
from tests.helpers.openapi import (
    Answer,
    component_response,
    documented_codes,
    operation_response,
    problems,
    spec,
)

ROOMS, HEALTH = "/api/rooms", "/api/health"


@dataclass
class Context:
    """What a scenario drives: the server's URL, the stack, the server's containers."""

    server: DevServer
    stack: LocalStack
    undo: ExitStack

    @property
    def base_url(self) -> str:
        return self.server.url.rstrip("/")

    def send(self, method: str, path: str, **kwargs) -> requests.Response:
        return requests.request(method, self.base_url + path, timeout=15, **kwargs)

    def create(
        self, body: bytes | str = b"{}", content_type: str | None = "application/json", **headers
    ) -> requests.Response:
        if content_type is not None:
            headers["Content-Type"] = content_type
        return self.send("POST", ROOMS, data=body, headers=headers)

    def health_check(self) -> requests.Response:
        return self.send("GET", HEALTH)

    def rooms(self, **wiring) -> None:
        """The server's create-room function becomes a new container built with `wiring`."""
        self.server.handlers[ROOMS] = functions.create_room(**wiring)

    def health(self, **wiring) -> None:
        self.server.handlers[HEALTH] = functions.health(**wiring)

    def daily_fault(self, **fault) -> None:
        assert self.stack.daily is not None
        self.stack.daily.inject(method="POST", path_prefix="/rooms", times=10, **fault)

    def other_origin_secret(self) -> None:
        """The origin-verify secret changes: the value CloudFront (here the server) sends is
        no longer the function's."""
        secretsmanager = self.stack.client("secretsmanager")
        secretsmanager.put_secret_value(SecretId=ORIGIN_SECRET_NAME, SecretString="rotated-away")
        self.undo.callback(
            secretsmanager.put_secret_value,
            SecretId=ORIGIN_SECRET_NAME,
            SecretString=self.stack.origin_secret,
        )

    @staticmethod
    def refusing_secrets() -> object:
        """The function's own Secrets Manager client, refused the read (AccessDenied)."""
        client = stored_secrets.new_client()

        def refuse(**_) -> tuple[AWSResponse, dict]:
            error = {"Error": {"Code": "AccessDeniedException", "Message": "refused"}}
            return AWSResponse("https://secretsmanager.invalid", 400, {}, None), error

        client.meta.events.register_first("before-call.secrets-manager.BatchGetSecretValue", refuse)
        return client

    @staticmethod
    def unreachable_dynamodb() -> object:
        """The function's own DynamoDB client, which cannot connect."""
        client = quota.new_client()

        def unreachable(request, **_) -> None:
            raise EndpointConnectionError(endpoint_url=request.url)

        client.meta.events.register_first("before-send.dynamodb", unreachable)
        return client


class CrashingSecrets:
    """A bug: the health function's reads raise what no handler expects."""

    def batch_get_secret_value(self, **_) -> dict:
        raise RuntimeError("a bug")


def keyed(key: str | None = None) -> dict[str, str]:
    return {"Idempotency-Key": key or str(uuid.uuid4())}


@dataclass(frozen=True)
class Scenario:
    name: str
    method: str
    path: str
    status: int
    error: str | None
    send: Callable[[Context], requests.Response]
    # Not an operation of the spec (another method on a route): its component response.
    component: str | None = None


def _expired_key(ctx: Context) -> requests.Response:
    clock = MovableClock()
    ctx.rooms(clock=clock)
    key = keyed()
    assert ctx.create(b'{"ttl_seconds": 60}', **key).status_code == 201
    clock.ahead = 61  # the room has ended
    return ctx.create(b'{"ttl_seconds": 60}', **key)


def _reused_key(ctx: Context) -> requests.Response:
    key = keyed()
    assert ctx.create(b'{"ttl_seconds": 60}', **key).status_code == 201
    return ctx.create(b'{"ttl_seconds": 120}', **key)


def _repeat(ctx: Context) -> requests.Response:
    key = keyed()
    first = ctx.create(**key)
    again = ctx.create(**key)
    assert again.json()["name"] == first.json()["name"]
    return again


def _rate_limited(ctx: Context) -> requests.Response:
    now = time.time()
    ctx.rooms(clock=lambda: now)  # all six in one window
    for _ in range(5):
        assert ctx.create().status_code == 201
    return ctx.create()


def _daily_times_out(ctx: Context) -> requests.Response:
    ctx.rooms(connect_timeout=1.0, read_timeout=0.3)
    ctx.daily_fault(delay=0.6)
    return ctx.create()


def _daily_busy(ctx: Context) -> requests.Response:
    ctx.daily_fault(status=429, headers={"Retry-After": "30"})
    return ctx.create()


def _health_unconfigured(ctx: Context) -> requests.Response:
    ctx.stack.set_configured(False)
    answer = ctx.health_check()
    assert answer.json()["configured"] is False
    return answer


def _rooms_forbidden(ctx: Context) -> requests.Response:
    ctx.other_origin_secret()
    return ctx.create()


def _health_forbidden(ctx: Context) -> requests.Response:
    ctx.other_origin_secret()
    return ctx.health_check()


def _unconfigured(ctx: Context) -> requests.Response:
    ctx.stack.set_configured(False)
    return ctx.create()


def _rooms_secret_unavailable(ctx: Context) -> requests.Response:
    ctx.rooms(secretsmanager=ctx.refusing_secrets())
    return ctx.create()


def _health_secret_unavailable(ctx: Context) -> requests.Response:
    ctx.health(secretsmanager=ctx.refusing_secrets())
    return ctx.health_check()


def _rooms_origin_unconfigured(ctx: Context) -> requests.Response:
    ctx.rooms(origin_verify_secret="")
    return ctx.create()


def _health_origin_unconfigured(ctx: Context) -> requests.Response:
    ctx.health(origin_verify_secret="")
    return ctx.health_check()


def _limiter_unavailable(ctx: Context) -> requests.Response:
    ctx.rooms(dynamodb=ctx.unreachable_dynamodb())
    return ctx.create()


def _rooms_bug(ctx: Context) -> requests.Response:
    ctx.rooms(daily_session=CrashingSession())
    return ctx.create()


def _health_bug(ctx: Context) -> requests.Response:
    ctx.health(secretsmanager=CrashingSecrets())
    return ctx.health_check()


def _fault(**fault) -> Callable[[Context], requests.Response]:
    def send(ctx: Context) -> requests.Response:
        ctx.daily_fault(**fault)
        return ctx.create()

    return send


def _other_methods(path: str, allowed: str) -> list[Scenario]:
    return [
        Scenario(
            f"{method} {path}",
            method,
            path,
            405,
            None if method == "HEAD" else "method_not_allowed",
            lambda ctx, method=method: ctx.send(method, path),
            "MethodNotAllowedHead" if method == "HEAD" else "MethodNotAllowed",
        )
        for method in ("GET", "PUT", "PATCH", "DELETE", "OPTIONS", "HEAD", "POST")
        if method != allowed
    ]


SCENARIOS = [
    Scenario("room", "POST", ROOMS, 201, None, lambda ctx: ctx.create()),
    Scenario("room, empty body", "POST", ROOMS, 201, None, lambda ctx: ctx.create(b"")),
    Scenario(
        "room, ttl and key",
        "POST",
        ROOMS,
        201,
        None,
        lambda ctx: ctx.create(b'{"ttl_seconds": 600}', **keyed()),
    ),
    Scenario("room, repeated key", "POST", ROOMS, 201, None, _repeat),
    Scenario("not JSON", "POST", ROOMS, 400, "invalid_request", lambda ctx: ctx.create(b"{")),
    Scenario(
        "unknown field",
        "POST",
        ROOMS,
        400,
        "invalid_request",
        lambda ctx: ctx.create(b'{"name": "mine"}'),
    ),
    Scenario(
        "ttl out of range",
        "POST",
        ROOMS,
        400,
        "invalid_request",
        lambda ctx: ctx.create(b'{"ttl_seconds": 5}'),
    ),
    Scenario(
        "malformed key",
        "POST",
        ROOMS,
        400,
        "invalid_request",
        lambda ctx: ctx.create(**keyed("short")),
    ),
    Scenario("key reused for another body", "POST", ROOMS, 400, "invalid_request", _reused_key),
    Scenario("no origin-verify match", "POST", ROOMS, 403, "forbidden", _rooms_forbidden),
    Scenario(
        "another site",
        "POST",
        ROOMS,
        403,
        "forbidden_origin",
        lambda ctx: ctx.create(**{"Sec-Fetch-Site": "cross-site", "Origin": "https://x.example"}),
    ),
    Scenario("key's room ended", "POST", ROOMS, 409, "idempotency_key_expired", _expired_key),
    Scenario(
        "body too large",
        "POST",
        ROOMS,
        413,
        "payload_too_large",
        lambda ctx: ctx.create(json.dumps({"ttl_seconds": 60, "x": "a" * 2100})),
    ),
    Scenario(
        "text/plain",
        "POST",
        ROOMS,
        415,
        "unsupported_media_type",
        lambda ctx: ctx.create(b"{}", "text/plain"),
    ),
    Scenario(
        "no Content-Type",
        "POST",
        ROOMS,
        415,
        "unsupported_media_type",
        lambda ctx: ctx.create(b"", None),
    ),
    Scenario("viewer limit", "POST", ROOMS, 429, "rate_limited", _rate_limited),
    Scenario("a bug", "POST", ROOMS, 500, "internal_error", _rooms_bug),
    Scenario("Daily 401", "POST", ROOMS, 502, "upstream_auth", _fault(status=401)),
    Scenario("Daily 400", "POST", ROOMS, 502, "upstream_rejected", _fault(status=400)),
    Scenario("Daily 500", "POST", ROOMS, 502, "upstream_error", _fault(status=500)),
    Scenario("Daily not JSON", "POST", ROOMS, 502, "upstream_error", _fault(malformed=True)),
    Scenario("no key", "POST", ROOMS, 503, "not_configured", _unconfigured),
    Scenario(
        "secrets refused", "POST", ROOMS, 503, "secret_unavailable", _rooms_secret_unavailable
    ),
    Scenario("DynamoDB down", "POST", ROOMS, 503, "limiter_unavailable", _limiter_unavailable),
    Scenario(
        "no origin-verify secret",
        "POST",
        ROOMS,
        503,
        "origin_check_unconfigured",
        _rooms_origin_unconfigured,
    ),
    Scenario("Daily 429", "POST", ROOMS, 503, "upstream_busy", _daily_busy),
    Scenario("Daily too slow", "POST", ROOMS, 504, "upstream_timeout", _daily_times_out),
    *_other_methods(ROOMS, "POST"),
    Scenario("health", "GET", HEALTH, 200, None, lambda ctx: ctx.health_check()),
    Scenario("health, no key", "GET", HEALTH, 200, None, _health_unconfigured),
    Scenario("health, no origin-verify match", "GET", HEALTH, 403, "forbidden", _health_forbidden),
    Scenario("health, a bug", "GET", HEALTH, 500, "internal_error", _health_bug),
    Scenario(
        "health, secrets refused",
        "GET",
        HEALTH,
        503,
        "secret_unavailable",
        _health_secret_unavailable,
    ),
    Scenario(
        "health, no origin-verify secret",
        "GET",
        HEALTH,
        503,
        "origin_check_unconfigured",
        _health_origin_unconfigured,
    ),
    *_other_methods(HEALTH, "GET"),
]
# What a client may rely on beyond the schema: how long to wait.
RETRY_AFTER = {"secret_unavailable": "5", "limiter_unavailable": "30", "upstream_busy": "30"}


@pytest.fixture
def context(api_server: DevServer, fresh_stack: LocalStack) -> Iterator[Context]:
    """Each scenario on new containers of both functions."""
    api_server.use_stack(fresh_stack)
    with ExitStack() as undo:
        yield Context(api_server, fresh_stack, undo)


def answer_of(response: requests.Response) -> Answer:
    return Answer(response.status_code, response.headers, response.content)


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.name)
def test_every_answer_of_the_handlers_is_the_documented_one(
    context: Context, scenario: Scenario
) -> None:
    response = scenario.send(context)
    answer = answer_of(response)
    assert answer.status == scenario.status, answer.body
    if scenario.component is None:
        documented = operation_response(scenario.method, scenario.path, answer.status)
    else:
        documented = component_response(scenario.component)
        assert answer.header("Allow") == ("POST" if scenario.path == ROOMS else "GET")
    assert problems(answer, documented) == []
    if scenario.error is not None:
        assert answer.json()["error"] == scenario.error
        assert answer.json()["requestId"]
    if scenario.error in RETRY_AFTER:
        assert answer.header("Retry-After") == RETRY_AFTER[scenario.error]
    if scenario.error == "rate_limited":
        assert 0 < int(answer.header("Retry-After") or 0) <= 600


def test_unknown_api_paths_are_the_documented_404(context: Context) -> None:
    answer = answer_of(context.send("GET", "/api/unknown"))
    assert answer.status == 404
    assert problems(answer, component_response("NotFound")) == []


def _documented_operations() -> set[tuple[str, str, int]]:
    return {
        (method, path, int(status))
        for path, item in spec()["paths"].items()
        for method, operation in item.items()
        for status in operation["responses"]
    }


def test_the_scenarios_reach_every_documented_status_and_error_code() -> None:
    """So the conformance test above cannot fall behind the spec, nor the spec behind it."""
    operations = [s for s in SCENARIOS if s.component is None]
    reached = {(s.method.lower(), s.path, s.status) for s in operations}
    assert reached == _documented_operations()
    codes_reached = {(s.method.lower(), s.path, s.status, s.error) for s in operations if s.error}
    codes_documented = {
        (method, path, status, code)
        for method, path, status in _documented_operations()
        if status >= 400
        for code in documented_codes(operation_response(method, path, status) or {})
    }
    assert codes_reached == codes_documented
    other_methods = {(s.method, s.path) for s in SCENARIOS if s.component is not None}
    assert len(other_methods) == 12  # six other methods on each route


def _api_errors() -> list[type[errors.ApiError]]:
    return [
        cls
        for _, cls in inspect.getmembers(errors, inspect.isclass)
        if issubclass(cls, errors.ApiError) and "code" in vars(cls)
    ]


def _documented_codes() -> set[tuple[int, str]]:
    """(status, code) of every error the spec documents: under operations, and the component
    responses of the dev server's own refusals (their `x-status`)."""
    pairs = {
        (status, code)
        for method, path, status in _documented_operations()
        if status >= 400
        for code in documented_codes(operation_response(method, path, status) or {})
    }
    for response in spec()["components"]["responses"].values():
        if "x-status" in response:
            pairs |= {(response["x-status"], code) for code in documented_codes(response)}
    return pairs


def test_every_error_code_is_documented_with_its_status() -> None:
    """A new error in errors.py, or a new refusal of the dev server, fails here until the spec
    names it under its status."""
    api_errors = [
        cls
        for _, cls in inspect.getmembers(errors, inspect.isclass)
        if issubclass(cls, errors.ApiError) and "code" in vars(cls)
    ]
    codes = {(cls.status, cls.code) for cls in api_errors}
    assert len(codes) >= 18
    server = {(int(status), code) for status, (code, _) in dev_server.PROTOCOL_ERRORS.items()}
    assert (codes | server) - _documented_codes() == set()


def test_the_spec_is_valid_openapi_3_1() -> None:
    document = spec()
    validate(document)
    assert document["openapi"].startswith("3.1.")
