"""Which requests may create a room: from this site, JSON, small; and who the viewer is."""

from __future__ import annotations

import pytest

from daily_rooms.create_request import (
    MAX_BODY_BYTES,
    idempotency_key,
    require_json,
    require_this_site,
)
from daily_rooms.errors import (
    ForbiddenOrigin,
    InvalidRequest,
    UnsupportedMediaType,
)
from daily_rooms.viewer import Viewer, viewer_of

ALLOWED = frozenset({"https://app.example.com"})


@pytest.mark.parametrize(
    "value", ["application/json", "application/json; charset=utf-8", " APPLICATION/JSON ;x=y"]
)
def test_json_is_accepted(value: str):
    require_json({"content-type": value})


@pytest.mark.parametrize(
    "value",
    [
        None,
        "",
        "text/plain",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
        "application/jsonx",
        "application/json-seq",
        "application/merge-patch+json",
        "application/json,text/plain",
        "text/json",
    ],
)
def test_anything_else_is_415(value: str | None):
    headers = {} if value is None else {"content-type": value}
    with pytest.raises(UnsupportedMediaType):
        require_json(headers)


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"sec-fetch-site": "same-origin", "origin": "https://d1.cloudfront.net"},
        {"sec-fetch-site": "none"},
        {"origin": "https://d1.cloudfront.net"},  # an older browser: the JSON rule still holds
        {"sec-fetch-site": "cross-site", "origin": "https://app.example.com"},
        {"sec-fetch-site": "cross-site", "origin": "https://APP.example.com/"},
    ],
)
def test_this_site_and_allowed_origins_pass(headers: dict):
    require_this_site(headers, ALLOWED)


@pytest.mark.parametrize(
    "headers",
    [
        {"sec-fetch-site": "cross-site"},
        {"sec-fetch-site": "cross-site", "origin": "https://evil.example"},
        {"sec-fetch-site": "Cross-Site", "origin": "https://evil.example"},
        {"sec-fetch-site": "same-site", "origin": "https://other.cloudfront.net"},
        {"sec-fetch-site": "same-site", "origin": "https://app.example.com.evil.example"},
        {"origin": "null"},
    ],
)
def test_other_sites_are_403(headers: dict):
    with pytest.raises(ForbiddenOrigin):
        require_this_site(headers, ALLOWED)


def test_body_limit_is_small():
    assert MAX_BODY_BYTES == 2048


@pytest.mark.parametrize("key", ["abcdefgh", "0f8fad5b-d9cb-469f-a165-70867728950e", "k" * 128])
def test_good_idempotency_keys(key: str):
    assert idempotency_key({"idempotency-key": key}) == key


@pytest.mark.parametrize("key", ["", "short", "has space in it", "k" * 129, "a/b/c/d/e/f"])
def test_bad_idempotency_keys(key: str):
    with pytest.raises(InvalidRequest):
        idempotency_key({"idempotency-key": key})


@pytest.mark.parametrize(
    ("header", "viewer"),
    [
        ("198.51.100.7:443", Viewer("198.51.100.7")),
        ("2001:db8:1:2:3:4:5:6:50123", Viewer("2001:db8:1:2::/64", "2001:db8:1::/48")),
        ("[2001:db8:1:2::9]:443", Viewer("2001:db8:1:2::/64", "2001:db8:1::/48")),
        ("::ffff:198.51.100.7:443", Viewer("198.51.100.7")),
    ],
)
def test_viewer_from_cloudfronts_header(header: str, viewer: Viewer):
    assert viewer_of({"cloudfront-viewer-address": header}, "130.176.0.1", trusted=True) == viewer


@pytest.mark.parametrize(
    "header", ["", "198.51.100.7", "198.51.100.7:", "198.51.100.7:x", "host:443", "1.2.3.4:٣"]
)
def test_a_bad_viewer_header_is_refused_on_the_trusted_path(header: str):
    with pytest.raises(InvalidRequest):
        viewer_of({"cloudfront-viewer-address": header}, "130.176.0.1", trusted=True)


def test_without_the_origin_check_the_socket_address_counts():
    headers = {"cloudfront-viewer-address": "192.0.2.1:1"}

    assert viewer_of(headers, "203.0.113.9", trusted=False) == Viewer("203.0.113.9")
    assert viewer_of(headers, "garbage", trusted=False) == Viewer("unknown")
