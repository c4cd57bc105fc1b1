"""The `make dev` server itself: static files, HttpApi v2 events, errors, port taken, Ctrl-C."""

from __future__ import annotations

import http.client
import json
import os
import re
import signal
import socket
import subprocess
import sys
from urllib.parse import urlsplit

import requests

from localdev.local_stack import LocalStack
from localdev.server import CONTENT_SECURITY_POLICY, http_api_event
from tests.e2e.conftest import ROOT
from tests.helpers import start_in_foreground


def test_root_serves_index_html_with_the_production_csp(base_url: str) -> None:
    response = requests.get(base_url + "/", timeout=5)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/html; charset=utf-8"
    assert "<title>Instant Daily video rooms</title>" in response.text
    assert response.headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_assets_get_their_content_types(base_url: str) -> None:
    expected = {
        "/app.js": "text/javascript",
        "/styles.css": "text/css",
        "/favicon.svg": "image/svg+xml",
    }
    for path, content_type in expected.items():
        response = requests.get(base_url + path, timeout=5)
        assert response.status_code == 200, path
        assert response.headers["Content-Type"].startswith(content_type), path


def test_csp_matches_the_template() -> None:
    template = " ".join((ROOT / "template.yaml").read_text().split())
    assert " ".join(CONTENT_SECURITY_POLICY.split()) in template


def test_missing_files_and_paths_outside_site_are_404(base_url: str) -> None:
    assert requests.get(base_url + "/nope.html", timeout=5).status_code == 404
    connection = http.client.HTTPConnection(urlsplit(base_url).netloc, timeout=5)
    connection.request("GET", "/%2e%2e/pyproject.toml")
    response = connection.getresponse()
    assert response.status == 404
    assert b"[project]" not in response.read()
    connection.close()


def test_unknown_api_path_is_a_json_404(base_url: str) -> None:
    response = requests.get(base_url + "/api/unknown", timeout=5)
    assert response.status_code == 404
    assert response.headers["Content-Type"] == "application/json"
    body = response.json()
    assert body["error"] == "not_found"
    assert body["message"]
    assert body["requestId"]


def test_api_requests_reach_the_real_handlers(base_url: str, fresh_stack: LocalStack) -> None:
    assert fresh_stack.daily is not None
    assert requests.get(base_url + "/api/health", timeout=5).json() == {"configured": True}
    response = requests.post(
        base_url + "/api/rooms",
        json={"ttl_seconds": 120},
        headers={"Idempotency-Key": "0f8fad5b-d9cb-469f-a165-70867728950e"},
        timeout=10,
    )
    assert response.status_code == 201
    room = response.json()
    assert room["name"] in fresh_stack.daily.rooms
    wrong = requests.delete(base_url + "/api/rooms", timeout=5)
    assert wrong.status_code == 405
    assert wrong.headers["Allow"] == "POST"


def test_static_paths_refuse_other_methods(base_url: str) -> None:
    response = requests.post(base_url + "/", timeout=5)
    assert response.status_code == 405
    assert response.headers["Allow"] == "GET, HEAD"


def test_http_api_v2_event_shape() -> None:
    event = http_api_event(
        "POST",
        "/api/rooms?a=1&a=2&b=",
        [
            ("Host", "127.0.0.1:3000"),
            ("Content-Type", "application/json"),
            ("X-Many", "one"),
            ("X-Many", "two"),
            ("Cookie", "c1=v1; c2=v2"),
            ("User-Agent", "pytest"),
        ],
        b'{"ttl_seconds": 60}',
        "127.0.0.1",
        "ANY /api/rooms",
    )
    assert event["version"] == "2.0"
    assert event["routeKey"] == "ANY /api/rooms"
    assert event["rawPath"] == "/api/rooms"
    assert event["rawQueryString"] == "a=1&a=2&b="
    assert event["queryStringParameters"] == {"a": "1,2", "b": ""}
    assert event["headers"]["content-type"] == "application/json"
    assert event["headers"]["x-many"] == "one,two"
    assert "cookie" not in event["headers"]
    assert event["cookies"] == ["c1=v1", "c2=v2"]
    assert json.loads(event["body"]) == {"ttl_seconds": 60}
    assert event["isBase64Encoded"] is False
    context = event["requestContext"]
    assert context["http"] == {
        "method": "POST",
        "path": "/api/rooms",
        "protocol": "HTTP/1.1",
        "sourceIp": "127.0.0.1",
        "userAgent": "pytest",
    }
    assert re.fullmatch(r"[0-9a-f-]{36}", context["requestId"])
    assert context["stage"] == "$default"
    assert context["routeKey"] == "ANY /api/rooms"
    assert isinstance(context["timeEpoch"], int)


def test_binary_bodies_are_base64_encoded() -> None:
    event = http_api_event("POST", "/api/rooms", [], b"\xff\x00", "127.0.0.1", "ANY /api/rooms")
    assert event["isBase64Encoded"] is True
    assert event["body"] == "/wA="


def _dev_env() -> dict[str, str]:
    """The environment for a `python -m localdev` child: offline, whatever the caller has."""
    return {key: value for key, value in os.environ.items() if key != "DAILY_API_KEY"}


def test_port_taken_is_one_clear_line_and_exit_code_1() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run(
            [sys.executable, "-m", "localdev", "--port", str(port)],
            cwd=ROOT,
            env=_dev_env(),
            capture_output=True,
            text=True,
            timeout=30,
        )
    assert result.returncode == 1
    assert result.stderr.strip() == (
        f"Port {port} on 127.0.0.1 is already in use: stop the other server "
        "or pick another port with --port."
    )
    assert result.stdout == ""


def test_ctrl_c_stops_cleanly_with_exit_code_0() -> None:
    child = start_in_foreground(
        [sys.executable, "-m", "localdev", "--port", "0"],
        cwd=ROOT,
        env=_dev_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout is not None
        banner = [child.stdout.readline() for _ in range(4)]
        assert banner[0].startswith("Demo running at http://127.0.0.1:")
        assert banner[1].startswith("Mode: offline: Daily emulator at http://127.0.0.1:")
        url = banner[0].split(" at ", 1)[1].strip()
        assert requests.get(url, timeout=5).status_code == 200
        child.send_signal(signal.SIGINT)
        out, err = child.communicate(timeout=20)
    finally:
        child.kill()
    assert child.returncode == 0
    assert "Stopped." in out
    assert "Traceback" not in err
