"""Arbitrary HttpApi events and bodies: never an unhandled error, always JSON, never the key.

`make test` runs 2,000 examples per property (hypothesis profile "ci"); `make fuzz` 10,000.
"""

from __future__ import annotations

import base64
import json

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from localdev.daily_emulator import RateLimit, RateLimits
from tests.helpers import load_event
from tests.helpers.creates import verified_claims

pytestmark = pytest.mark.fuzz

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=12,
)
ttl_bodies = st.fixed_dictionaries(
    {}, optional={"ttl_seconds": st.integers(-10, 100_000) | json_values}
).map(json.dumps)
bodies = st.none() | st.text(max_size=300) | json_values.map(json.dumps) | ttl_bodies
header_names = st.sampled_from(
    [
        "content-type",
        "idempotency-key",
        "cloudfront-viewer-address",
        "x-origin-verify",
        "cookie",
        "origin",
        "sec-fetch-site",
    ]
) | st.text("abcdefghijklmnopqrstuvwxyz-", min_size=1, max_size=20)
content_types = st.sampled_from(
    ["application/json", "application/json; charset=utf-8", "text/plain", "multipart/form-data"]
) | st.text(max_size=40)
viewer_addresses = st.one_of(
    st.ip_addresses().map(lambda ip: f"{ip}:{443}"),
    st.ip_addresses().map(str),
    st.text(max_size=45),
)
# API Gateway sends these functions their own routes; weight the draws towards them.
methods = st.one_of(
    st.just("POST"),
    st.just("POST"),
    st.just("GET"),
    st.sampled_from(["PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"]),
    st.text(max_size=8),
)
paths = st.one_of(
    st.just("/api/rooms"),
    st.just("/api/rooms"),
    st.just("/api/health"),
    st.sampled_from(["/api/rooms/", "/api", "/", "/API/ROOMS"]),
    st.text(max_size=40),
)


@st.composite
def http_api_events(draw: st.DrawFn, origin_secret: str) -> dict:
    event = load_event("create_room/create.json")
    headers = draw(st.dictionaries(header_names, st.text(max_size=60), max_size=6))
    # Mostly through the CDN and as JSON, so that the handlers' inner paths are reached.
    if draw(st.integers(0, 3)):
        headers["x-origin-verify"] = origin_secret
    if draw(st.integers(0, 3)):
        headers["cloudfront-viewer-address"] = draw(viewer_addresses)
    if draw(st.integers(0, 3)):
        headers["content-type"] = draw(content_types)
    body = draw(bodies)
    encoded = draw(st.booleans())
    if body is not None and encoded:
        body = draw(st.sampled_from([base64.b64encode(body.encode()).decode(), body]))
    method, path = draw(methods), draw(paths)
    event.update(headers=headers, rawPath=path, isBase64Encoded=encoded)
    event["requestContext"]["http"].update(
        method=method, path=path, sourceIp=draw(st.text(max_size=45))
    )
    if body is None:
        event.pop("body", None)
    else:
        event["body"] = body
    return event


@pytest.fixture
def roomy_daily(fresh_stack):
    fresh_stack.daily.set_limits(RateLimits(default=RateLimit(100_000, 100_000, 5.0)))
    yield fresh_stack
    fresh_stack.daily.set_limits(RateLimits())


def assert_clean_json_answer(answer: dict, api_key: str) -> dict:
    assert isinstance(answer["statusCode"], int)
    assert answer["headers"]["Content-Type"] == "application/json"
    body = json.loads(answer["body"])
    assert isinstance(body, dict)
    if answer["statusCode"] >= 400:
        assert set(body) == {"error", "message", "requestId"}
    assert body.get("error") != "internal_error"
    assert answer["statusCode"] < 500 or body["error"] in {
        "not_configured",
        "upstream_busy",
        "upstream_error",
        "upstream_timeout",
        "limiter_unavailable",
    }
    assert api_key not in answer["body"]
    return body


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=st.data())
def test_any_event_gets_a_clean_json_answer(roomy_daily, create_room, health, logs, data):
    request = data.draw(http_api_events(roomy_daily.origin_secret))
    function = health if request["rawPath"].startswith("/api/health") else create_room

    answer = function.raw(request)

    body = assert_clean_json_answer(answer, roomy_daily.api_key)
    event(f"{answer['statusCode']} {body.get('error', 'ok')}")
    if answer["statusCode"] == 201:
        assert verified_claims(roomy_daily, body["ownerToken"])["room_name"] == body["name"]
    assert not any(roomy_daily.api_key in line for line in logs.lines[-20:])


@pytest.mark.parametrize(
    "event",
    [{}, {"version": "2.0"}, {"requestContext": None}, {"requestContext": {"http": {}}}, []],
    ids=["empty", "no context", "null context", "no method", "not an object"],
)
def test_structurally_broken_events_still_get_json(fresh_stack, create_room, health, event):
    for function in (create_room, health):
        answer = function.raw(event)

        assert answer["statusCode"] == 500
        assert json.loads(answer["body"])["error"] == "internal_error"
