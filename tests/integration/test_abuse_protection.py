"""Safe on the internet: limits per viewer, per IPv6 /48 and per day, no CDN bypass, no viewer
address spoofing, no cross-site creates."""

from __future__ import annotations

import base64
import json
import time
import urllib.parse

import pytest

from tests.helpers import load_event
from tests.helpers.creates import create_event, state_items, with_limits


def without(header: str, **headers: str) -> dict:
    event = create_event(**headers)
    del event["headers"][header]
    return event


def form(body: str, content_type: str) -> dict:
    return create_event(body, **{"content-type": content_type})


@pytest.fixture
def limits(create_room):
    """Create-room containers with other limits, their clocks stopped at the test's start."""
    now = time.time()
    return lambda **values: with_limits(create_room, now=now, **values)


def test_viewer_gets_429_after_the_limit_and_others_are_unaffected(fresh_stack, create_room, logs):
    # 443 s before the window ends: 7.4 minutes, which must read as 8, never 7.
    now = (int(time.time()) // 600 + 1) * 600 + 157
    create = with_limits(create_room, per_viewer=3, per_day=100, now=now)
    answers = [create(create_event(), viewer="203.0.113.5") for _ in range(4)]

    assert [status for status, _, _ in answers] == [201, 201, 201, 429]
    _, headers, body = answers[-1]
    assert body["error"] == "rate_limited"
    assert "3 rooms every 10 minutes" in body["message"]
    assert headers["Retry-After"] == "443"
    assert "Please try again in 8 minutes." in body["message"]  # rounded up, never down
    assert create(create_event(), viewer="203.0.113.6")[0] == 201
    assert len(fresh_stack.daily.rooms) == 4
    refusals = [json.loads(line) for line in logs.lines if "answered with an error" in line]
    assert [(line["error"], line["limit"]) for line in refusals] == [("rate_limited", "viewer")]


def test_daily_cap_holds_across_viewers(fresh_stack, create_room, limits):
    create = limits(per_viewer=5, per_day=2)
    statuses = [create(create_event(), viewer=f"192.0.2.{n}")[0] for n in range(4)]
    status, headers, body = create(create_event(), viewer="192.0.2.99")

    assert statuses == [201, 201, 429, 429]
    assert (status, body["error"]) == (429, "rate_limited")
    assert "today" in body["message"]
    assert int(headers["Retry-After"]) <= 86_400
    assert len(fresh_stack.daily.rooms) == 2


def test_a_refused_create_does_not_use_up_the_viewers_quota(fresh_stack, create_room, limits):
    create = limits(per_viewer=1, per_day=1)
    create(create_event(), viewer="192.0.2.1")
    refused = create(create_event(), viewer="192.0.2.2")
    create = limits(per_viewer=1, per_day=5)

    assert refused[0] == 429
    assert create(create_event(), viewer="192.0.2.2")[0] == 201


def test_ipv6_viewers_are_limited_per_64_prefix(fresh_stack, create_room, limits):
    create = limits(per_viewer=1, per_day=100)
    first = create(create_event(), viewer="2001:db8:1:2::10")
    same_64 = create(create_event(), viewer="2001:db8:1:2:ffff::1")
    next_64 = create(create_event(), viewer="2001:db8:1:3::10")

    assert (first[0], same_64[0], next_64[0]) == (201, 429, 201)


def test_one_ipv6_48_cannot_create_more_than_its_ceiling(fresh_stack, create_room, limits, logs):
    """60 creates from 60 different /64s of one /48: only the /48's ceiling get a room."""
    create = limits(per_viewer=5, per_day=1000, per_prefix=10)
    answers = [create(create_event(), viewer=f"2001:db8:7:{n:x}::1") for n in range(60)]
    other_48 = create(create_event(), viewer="2001:db8:8::1")

    statuses = [status for status, _, _ in answers]
    assert statuses == [201] * 10 + [429] * 50
    assert "your network" in answers[-1][2]["message"]
    assert other_48[0] == 201
    assert len(fresh_stack.daily.rooms) == 11
    limited = {json.loads(line).get("limit") for line in logs.lines if "rate_limited" in line}
    assert limited == {"prefix"}


def test_ipv4_mapped_ipv6_counts_as_the_ipv4_viewer(fresh_stack, create_room, limits):
    create = limits(per_viewer=1, per_day=100)
    assert create(create_event(), viewer="192.0.2.44")[0] == 201
    assert create(create_event(), viewer="::ffff:192.0.2.44")[0] == 429


def test_rooms_are_counted_per_viewer_address_not_per_edge(fresh_stack, create_room, limits):
    create = limits(per_viewer=1, per_day=100)
    event = create_event()
    event["requestContext"]["http"]["sourceIp"] = "130.176.0.1"  # a CloudFront edge address

    assert create(event, viewer="198.51.100.1")[0] == 201
    assert create(event, viewer="198.51.100.2")[0] == 201


@pytest.mark.parametrize(
    "address",
    [None, "", "198.51.100.7", "198.51.100.7:", "not-an-ip:443", "999.1.1.1:443", "2001:db8::1"],
    ids=["missing", "empty", "no port", "empty port", "not an IP", "bad IPv4", "IPv6, no port"],
)
def test_a_missing_or_malformed_viewer_header_is_refused_not_replaced_by_the_edge(
    fresh_stack, create_room, address
):
    event = without("cloudfront-viewer-address", **{"x-origin-verify": fresh_stack.origin_secret})
    if address is not None:
        event["headers"]["cloudfront-viewer-address"] = address

    status, _, body = create_room(event, via_cdn=False)

    assert (status, body["error"]) == (400, "invalid_request")
    assert "CloudFront-Viewer-Address" in body["message"]
    assert fresh_stack.daily.calls() == []


@pytest.mark.parametrize("value", [None, "", "wrong", "x" * 64])
def test_calls_that_skip_the_cdn_are_refused(fresh_stack, create_room, health, value):
    headers = {} if value is None else {"x-origin-verify": value}
    answers = [
        create_room(create_event() | {"headers": headers}, via_cdn=False),
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


def test_without_an_origin_verify_secret_every_request_is_refused(
    fresh_stack, create_room, health, logs
):
    """A configuration mistake fails closed: no secret to compare with, no answer but a 503."""
    unconfigured = {"origin_verify_secret": ""}
    event = create_event(**{"x-origin-verify": "anything"})
    answers = [
        create_room.new(**unconfigured)(event, via_cdn=False),
        health.new(**unconfigured)(load_event("health/health.json"), via_cdn=False),
    ]

    for status, headers, body in answers:
        assert (status, body["error"]) == (503, "origin_check_unconfigured")
        assert set(body) == {"error", "message", "requestId"}
        assert "Retry-After" not in headers
    assert fresh_stack.daily.calls() == []
    assert state_items(fresh_stack) == {}
    help_lines = [json.loads(line) for line in logs.lines if "ORIGIN_VERIFY_SECRET" in line]
    assert [line["level"] for line in help_lines] == ["ERROR", "ERROR"]
    assert "LOCAL_ONLY_SKIP_ORIGIN_VERIFY=true" in help_lines[0]["message"]


def test_the_local_only_setting_lets_a_function_without_the_secret_answer(
    fresh_stack, create_room, health
):
    local = {"origin_verify_secret": "", "local_only_skip_origin_verify": True}

    assert create_room.new(**local)(create_event(), via_cdn=False)[0] == 201
    assert health.new(**local)(load_event("health/health.json"), via_cdn=False)[0] == 200


def test_the_local_only_setting_never_turns_a_configured_check_off(
    fresh_stack, create_room, health
):
    local = {"local_only_skip_origin_verify": True}
    headers = {"x-origin-verify": "wrong"}
    answers = [
        create_room.new(**local)(create_event(**headers), via_cdn=False),
        health.new(**local)(load_event("health/health.json") | {"headers": headers}, via_cdn=False),
    ]

    assert [(status, body["error"]) for status, _, body in answers] == [(403, "forbidden")] * 2


def test_viewer_header_is_ignored_without_the_origin_check(fresh_stack, create_room, limits):
    """A caller cannot pick its own viewer address when the check is off (local runs only)."""
    local = {"origin_verify_secret": "", "local_only_skip_origin_verify": True}
    create = limits(per_viewer=1, per_day=100, **local)
    answers = [
        create(create_event(**{"cloudfront-viewer-address": f"192.0.2.{n}:1"}), via_cdn=False)
        for n in range(2)
    ]

    assert [status for status, _, _ in answers] == [201, 429]


@pytest.mark.parametrize(
    "event",
    [
        without("content-type"),
        form('{"ttl_seconds": 600}', "text/plain"),
        form('{"ttl_seconds": 600}', "text/plain;charset=UTF-8"),
        form(urllib.parse.urlencode({"ttl_seconds": "600"}), "application/x-www-form-urlencoded"),
        form("--b\r\n\r\n{}\r\n--b--", "multipart/form-data; boundary=b"),
        form("{}", "application/jsonp"),
        form("{}", "application/json-patch+json"),
    ],
    ids=[
        "no body, no type",
        "text/plain",
        "text/plain+charset",
        "form",
        "multipart",
        "jsonp",
        "+json",
    ],
)
def test_only_json_creates_rooms_so_cross_site_pages_need_a_preflight(
    fresh_stack, create_room, event
):
    status, _, body = create_room(event)

    assert (status, body["error"]) == (415, "unsupported_media_type")
    assert fresh_stack.daily.rooms == {}


@pytest.mark.parametrize(
    "content_type", ["application/json", "application/json; charset=utf-8", "Application/JSON"]
)
def test_the_pages_own_request_creates_a_room(fresh_stack, create_room, content_type):
    """site/api.js: POST, Content-Type: application/json, body {}, same origin."""
    headers = {
        "content-type": content_type,
        "idempotency-key": "0f8fad5b-d9cb-469f-a165-70867728950e",
        "origin": "https://d111111abcdef8.cloudfront.net",
        "sec-fetch-site": "same-origin",
        "sec-fetch-mode": "cors",
    }
    status, _, body = create_room(create_event("{}", **headers))

    assert status == 201
    assert body["name"] in fresh_stack.daily.rooms


@pytest.mark.parametrize(
    "headers",
    [
        {"sec-fetch-site": "cross-site", "origin": "https://evil.example"},
        {"sec-fetch-site": "cross-site"},
        {"sec-fetch-site": "same-site", "origin": "https://other.cloudfront.net"},
        {"origin": "null"},
    ],
    ids=["cross-site", "cross-site, no origin", "same-site", "opaque origin"],
)
def test_requests_from_other_sites_are_refused(fresh_stack, create_room, headers):
    status, _, body = create_room(create_event("{}", **headers))

    assert (status, body["error"]) == (403, "forbidden_origin")
    assert fresh_stack.daily.calls() == []


def test_an_allowed_origin_may_create_cross_site(fresh_stack, create_room):
    create_room = create_room.new(allowed_origins=frozenset({"https://app.example.com"}))
    ok = create_event("{}", **{"sec-fetch-site": "cross-site", "origin": "https://app.example.com"})
    other = create_event("{}", **{"sec-fetch-site": "cross-site", "origin": "https://b.example"})

    assert create_room(ok)[0] == 201
    assert create_room(other)[0] == 403


@pytest.mark.parametrize("encoded", [False, True], ids=["text", "base64"])
def test_a_body_over_the_limit_is_413(fresh_stack, create_room, encoded):
    body = json.dumps({"ttl_seconds": 600, "pad": "x" * 3000})
    event = create_event(body)
    if encoded:
        event.update(body=base64.b64encode(body.encode()).decode(), isBase64Encoded=True)
    status, _, answer = create_room(event)

    assert (status, answer["error"]) == (413, "payload_too_large")
    assert fresh_stack.daily.calls() == []
