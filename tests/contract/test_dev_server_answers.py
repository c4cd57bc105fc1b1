"""The dev server's own answers (requests it refuses before any function runs) have the
functions' shape: JSON `{error, message, requestId}`, `Cache-Control: no-store` and the
production security headers, as docs/openapi.yaml documents them."""

from __future__ import annotations

import http.client
import socket
from urllib.parse import urlsplit

import pytest

from localdev.server import DevServer
from scripts.site_headers import template_headers
from tests.helpers.openapi import Answer, component_response, problems


def exchange(server: DevServer, request: bytes, *, method: str = "GET") -> Answer:
    """Send raw bytes, read one answer (parsed by http.client, as a client would)."""
    address = urlsplit(server.url)
    with socket.create_connection((address.hostname, address.port), timeout=10) as connection:
        connection.sendall(request)
        response = http.client.HTTPResponse(connection, method=method)
        response.begin()
        return Answer(response.status, dict(response.getheaders()), response.read())


def assert_error_shape(answer: Answer, status: int, code: str) -> None:
    assert answer.status == status, answer.body
    assert answer.header("Content-Type") == "application/json"
    assert answer.header("Cache-Control") == "no-store"
    assert answer.header("Connection") == "close"
    for name in ("X-Content-Type-Options", "Referrer-Policy", "X-Frame-Options"):
        assert answer.header(name) == template_headers()[name]
    body = answer.json()
    assert set(body) == {"error", "message", "requestId"}
    assert body["error"] == code
    assert body["message"]
    assert body["requestId"]


@pytest.mark.parametrize("method", ["TRACE", "CONNECT", "PROPFIND", "BREW"])
@pytest.mark.parametrize(
    ("path", "allow"), [("/", "GET, HEAD"), ("/app.js", "GET, HEAD"), ("/api/rooms", "POST")]
)
def test_unknown_methods_are_a_json_405_naming_the_allowed_ones(
    api_server: DevServer, method: str, path: str, allow: str
) -> None:
    request = f"{method} {path} HTTP/1.1\r\nHost: localhost\r\n\r\n".encode()
    answer = exchange(api_server, request)
    assert_error_shape(answer, 405, "method_not_allowed")
    assert answer.header("Allow") == allow
    assert problems(answer, component_response("MethodNotAllowed")) == []


def test_unknown_methods_on_the_health_route_name_get(api_server: DevServer) -> None:
    answer = exchange(api_server, b"TRACE /api/health HTTP/1.1\r\nHost: localhost\r\n\r\n")
    assert_error_shape(answer, 405, "method_not_allowed")
    assert answer.header("Allow") == "GET"
    assert problems(answer, component_response("MethodNotAllowed")) == []


def test_unknown_methods_on_unknown_api_paths_are_a_json_404(api_server: DevServer) -> None:
    answer = exchange(api_server, b"TRACE /api/nope HTTP/1.1\r\nHost: localhost\r\n\r\n")
    assert_error_shape(answer, 404, "not_found")
    assert problems(answer, component_response("NotFound")) == []


@pytest.mark.parametrize(
    "headers",
    [
        b"".join(b"X-Field-%d: 1\r\n" % n for n in range(101)),  # more than the stdlib's 100
        b"X-Long: " + b"a" * 70_000 + b"\r\n",  # one field over 64 KiB
    ],
    ids=["too many fields", "one field too long"],
)
def test_oversized_headers_are_a_json_431(api_server: DevServer, headers: bytes) -> None:
    answer = exchange(
        api_server, b"GET /api/health HTTP/1.1\r\nHost: localhost\r\n" + headers + b"\r\n"
    )
    assert_error_shape(answer, 431, "request_header_fields_too_large")
    assert problems(answer, component_response("RequestHeaderFieldsTooLarge")) == []


def test_a_request_target_over_64_kib_is_a_json_414(api_server: DevServer) -> None:
    answer = exchange(api_server, b"GET /" + b"a" * 70_000 + b" HTTP/1.1\r\n\r\n")
    assert_error_shape(answer, 414, "uri_too_long")
    assert problems(answer, component_response("UriTooLong")) == []


@pytest.mark.parametrize(
    "line", [b"GET / extra HTTP/1.1", b"GET / HTTP/one", b"GET / HTTP/1.1 extra"], ids=repr
)
def test_a_malformed_request_line_is_a_json_400(api_server: DevServer, line: bytes) -> None:
    answer = exchange(api_server, line + b"\r\nHost: localhost\r\n\r\n")
    assert_error_shape(answer, 400, "invalid_request")
    assert problems(answer, component_response("InvalidRequest")) == []


def test_http_2_over_plain_text_is_a_json_505(api_server: DevServer) -> None:
    answer = exchange(api_server, b"GET / HTTP/2.0\r\nHost: localhost\r\n\r\n")
    assert_error_shape(answer, 505, "http_version_not_supported")
    assert problems(answer, component_response("HttpVersionNotSupported")) == []


@pytest.mark.parametrize("path", ["/api/rooms", "/api/health", "/api/nope"])
def test_a_body_over_1_mib_is_a_json_413_before_it_is_read(
    api_server: DevServer, path: str
) -> None:
    request = f"POST {path} HTTP/1.1\r\nHost: localhost\r\nContent-Length: 1048577\r\n\r\n"
    answer = exchange(api_server, request.encode())
    assert_error_shape(answer, 413, "payload_too_large")
    assert problems(answer, component_response("DevServerPayloadTooLarge")) == []


def test_a_content_length_that_is_no_number_is_a_json_400(api_server: DevServer) -> None:
    request = b"POST /api/rooms HTTP/1.1\r\nHost: localhost\r\nContent-Length: -1\r\n\r\n"
    answer = exchange(api_server, request)
    assert_error_shape(answer, 400, "invalid_request")


def test_a_missing_file_is_a_json_404(api_server: DevServer) -> None:
    answer = exchange(api_server, b"GET /nope.html HTTP/1.1\r\nHost: localhost\r\n\r\n")
    assert answer.status == 404
    assert answer.json()["error"] == "not_found"
    assert problems(answer, component_response("NotFound")) == []


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE", "OPTIONS"])
def test_static_paths_refuse_other_methods_as_json(api_server: DevServer, method: str) -> None:
    request = f"{method} / HTTP/1.1\r\nHost: localhost\r\nContent-Length: 0\r\n\r\n".encode()
    answer = exchange(api_server, request)
    assert answer.status == 405
    assert answer.header("Allow") == "GET, HEAD"
    assert problems(answer, component_response("MethodNotAllowed")) == []


def test_head_of_a_refused_method_has_headers_and_no_body(api_server: DevServer) -> None:
    answer = exchange(
        api_server, b"HEAD /api/rooms HTTP/1.1\r\nHost: localhost\r\n\r\n", method="HEAD"
    )
    assert answer.status == 405
    assert answer.body == b""
    assert problems(answer, component_response("MethodNotAllowedHead")) == []
