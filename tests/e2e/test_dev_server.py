"""The `make dev` server itself: headers, the offline call, HttpApi v2 events, logs and flags."""

from __future__ import annotations

import copy
import dataclasses
import html
import http.client
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
import requests

from localdev.local_stack import LocalStack
from localdev.security_headers import add_source
from localdev.server import SETUP_HINT, DevServer, http_api_event, serve
from scripts.site_headers import template_headers
from tests.e2e.conftest import DAILY_CDN_URL, DAILY_JS, ROOT
from tests.helpers import start_in_foreground

LOG_LINE = re.compile(
    r"^\d\d:\d\d:\d\d (GET|POST|DELETE) (/api/\S+) (\d{3})( [a-z_]+)? \d+ ms "
    r"request [0-9a-f-]{36}$"
)


@pytest.fixture(scope="module")
def real_key_server(stack: LocalStack) -> Iterator[str]:
    """The dev server as it runs with DAILY_API_KEY: no emulator, so no stand-in."""
    server = serve("127.0.0.1", 0, dataclasses.replace(stack, daily=None), quiet=True)
    yield server.url.rstrip("/")
    server.shutdown()
    server.server_close()


def test_offline_the_page_gets_the_templates_headers_plus_frame_src_self(base_url: str) -> None:
    response = requests.get(base_url + "/", timeout=5)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/html; charset=utf-8"
    assert "<title>Instant Daily video rooms</title>" in response.text
    production = template_headers()
    for name in ("Permissions-Policy", "X-Content-Type-Options", "Referrer-Policy"):
        assert response.headers[name] == production[name]
    assert response.headers["X-Frame-Options"] == "DENY"
    # Offline, and only then, the page may also frame the Prebuilt stand-in on its own origin.
    csp = add_source(production["Content-Security-Policy"], "frame-src", "'self'")
    assert response.headers["Content-Security-Policy"] == csp
    assert (
        '<meta name="daily-proxy-url" content="/__daily__" data-room-hosts="emulator.daily.co">'
        in response.text
    )


def test_with_a_real_key_the_page_is_served_as_in_production(real_key_server: str) -> None:
    response = requests.get(real_key_server + "/", timeout=5)
    production = template_headers()
    for name, value in production.items():
        assert response.headers[name] == value
    assert "daily-proxy-url" not in response.text
    # Production's page, plus the dev server's setup hint (which only its banner shows).
    page = (ROOT / "site" / "index.html").read_text()
    hint = f'<meta name="localdev" data-setup="{html.escape(SETUP_HINT)}">\n'
    assert response.text == page.replace("</head>", hint + "</head>", 1)
    standin = requests.get(real_key_server + "/__daily__/emulator.daily.co/room", timeout=5)
    assert standin.status_code == 404


def test_the_templates_policies_cover_what_daily_js_frames_and_reports_to() -> None:
    bundle = DAILY_JS.read_text()
    # daily-js's base domains (it frames <team>.<each one>) and its Sentry DSN's host.
    [domains] = re.findall(r'\["daily\.co","dailywebrtc\.com","dailywebrtc\.net"\]', bundle)
    sentry_hosts = set(re.findall(r'dsn:"https://[0-9a-f]+@([a-z0-9.]+)/\d+"', bundle))
    assert sentry_hosts == {"o77906.ingest.sentry.io"}
    headers = template_headers()
    csp = {
        part.split()[0]: part.split()[1:] for part in headers["Content-Security-Policy"].split(";")
    }
    features = dict(item.strip().split("=", 1) for item in headers["Permissions-Policy"].split(","))
    assert set(features) == {"camera", "microphone", "display-capture", "fullscreen"}
    for domain in json.loads(domains):
        assert f"https://*.{domain}" in csp["frame-src"]
        for allowlist in features.values():
            assert f'"https://*.{domain}"' in allowlist.strip("()").split()
    assert csp["connect-src"] == ["'self'", *(f"https://{host}" for host in sentry_hosts)]
    # Scripts: the page's own, and exactly the daily-js file index.html loads (not all of unpkg).
    assert csp["script-src"] == ["'self'", DAILY_CDN_URL]
    assert (
        f'<script defer src="{DAILY_CDN_URL}" integrity=' in (ROOT / "site/index.html").read_text()
    )


def test_the_stand_in_is_served_for_the_emulators_rooms_only(
    base_url: str, fresh_stack: LocalStack
) -> None:
    room = requests.post(base_url + "/api/rooms", json={}, timeout=10).json()
    page = requests.get(f"{base_url}/__daily__/emulator.daily.co/{room['name']}?emb=1", timeout=5)
    assert page.status_code == 200
    assert 'data-state="open"' in page.text
    assert f'data-exp="{room["exp"]}"' in page.text
    # Its own policy: scripts from its own files only, framed by the page's origin only.
    csp = page.headers["Content-Security-Policy"]
    assert "script-src 'self';" in csp
    assert "frame-ancestors 'self'" in csp
    assert "X-Frame-Options" not in page.headers
    missing = requests.get(f"{base_url}/__daily__/emulator.daily.co/nope", timeout=5)
    assert 'data-state="missing"' in missing.text
    escaped = requests.get(f"{base_url}/__daily__/emulator.daily.co/%3Cb%3E", timeout=5)
    assert "<b>" not in escaped.text
    assert "&lt;b&gt;" in escaped.text
    for path in (
        "/__daily__/team.daily.co/room",
        "/__daily__/assets/../offline_call.py",
        "/__daily__/assets/%2e%2e%2foffline_call.py",
        "/__daily__/assets/room.html",
    ):
        assert requests.get(base_url + path, timeout=5).status_code == 404, path
    script = requests.get(base_url + "/__daily__/assets/standin.js", timeout=5)
    assert script.headers["Content-Type"] == "text/javascript; charset=utf-8"


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
    assert requests.get(base_url + "/api/health", timeout=5).json()["configured"] is True
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


def start_dev(*flags: str) -> tuple[subprocess.Popen, str, list[str]]:
    """`python -m localdev` on a free port: the child, its URL and its banner, once it serves."""
    child = start_in_foreground(
        [sys.executable, "-m", "localdev", "--port", "0", *flags],
        cwd=ROOT,
        env=_dev_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert child.stdout is not None
    banner = [child.stdout.readline()]
    while not banner[-1].startswith("Press Ctrl-C"):
        assert banner[-1], banner  # the child ended early
        banner.append(child.stdout.readline())
    assert banner[0].startswith("Demo running at http://127.0.0.1:"), banner
    return child, banner[0].split(" at ", 1)[1].strip(), banner


def stop_dev(child: subprocess.Popen) -> tuple[str, str]:
    """Ctrl-C, then everything the child printed after its first line."""
    child.send_signal(signal.SIGINT)
    try:
        out, err = child.communicate(timeout=20)
    finally:
        child.kill()
    return out, err


def test_each_api_request_is_one_log_line_and_function_output_stays_hidden() -> None:
    child, url, _ = start_dev()
    try:
        assert requests.get(url + "api/health", timeout=5).status_code == 200
        assert requests.delete(url + "api/rooms", timeout=5).status_code == 405
        assert requests.get(url, timeout=5).status_code == 200
    finally:
        out, err = stop_dev(child)
    lines = err.splitlines()
    assert len(lines) == 2, err
    health, delete = (LOG_LINE.match(line) for line in lines)
    assert health is not None
    assert health.groups()[:4] == ("GET", "/api/health", "200", None)
    assert delete is not None
    assert delete.groups()[:4] == ("DELETE", "/api/rooms", "405", " method_not_allowed")
    # Neither the functions' JSON logs nor their metrics reach the terminal.
    assert "{" not in out


def test_no_key_shows_the_banner_state_and_verbose_shows_function_logs() -> None:
    child, url, banner = start_dev("--no-key", "--verbose")
    assert "No Daily key in the secret (--no-key): room creation is off, joining works.\n" in banner
    try:
        assert requests.get(url + "api/health", timeout=5).json()["configured"] is False
        create = requests.post(url + "api/rooms", json={}, timeout=10)
        assert (create.status_code, create.json()["error"]) == (503, "not_configured")
    finally:
        out, err = stop_dev(child)
    records = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    messages = [record.get("message", "") for record in records]
    assert any("When the page says room creation is unavailable" in m for m in messages)
    assert any(record.get("KeyConfigured") == [0.0] for record in records)
    assert sum(bool(LOG_LINE.match(line)) for line in err.splitlines()) == 2


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
        assert banner[2].startswith("Calls open a local stand-in for Daily Prebuilt")
        url = banner[0].split(" at ", 1)[1].strip()
        assert requests.get(url, timeout=5).status_code == 200
        child.send_signal(signal.SIGINT)
        out, err = child.communicate(timeout=20)
    finally:
        child.kill()
    assert child.returncode == 0
    assert "Stopped." in out
    assert "Traceback" not in err


def test_one_function_runs_at_a_time(stack: LocalStack) -> None:
    """Powertools keeps the current event on its router class, so a health check running during
    a create could hand the create the health check's event (answered 415, or 200 without a
    room). The server therefore runs one invocation at a time, whichever the function."""
    server = DevServer("127.0.0.1", 0)
    server.use_stack(stack)
    inside, release = threading.Event(), threading.Event()
    finished: list[str] = []

    def slow_create(event: dict, context: object) -> dict:
        inside.set()
        release.wait(10)
        finished.append("create")
        return {"statusCode": 201}

    def health(event: dict, context: object) -> dict:
        finished.append("health")
        return {"statusCode": 200}

    server.handlers = {"/api/rooms": slow_create, "/api/health": health}
    event = http_api_event("GET", "/api/health", [], b"", "198.51.100.20", "ANY /api/health")
    calls = [
        threading.Thread(target=server.invoke, args=(path, copy.deepcopy(event)))
        for path in ("/api/rooms", "/api/health")
    ]
    calls[0].start()
    assert inside.wait(10)
    calls[1].start()
    calls[1].join(0.3)  # long enough for an unblocked health check to finish
    waited = calls[1].is_alive()
    release.set()
    for call in calls:
        call.join(10)
    server.server_close()

    assert waited
    assert finished == ["create", "health"]
