"""The `make dev` server: serves site/ and runs /api/* through the real Lambda handlers in-process.

Each /api request becomes an HttpApi payload v2 event, with the headers CloudFront adds in
production, and goes to the same `handler(event, context)` functions that Lambda runs. Static
files get the production security headers (the same strict CSP), so the page is tested as served.
"""

from __future__ import annotations

import base64
import importlib
import json
import socket
import sys
import threading
import time
import traceback
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import ModuleType
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from localdev.local_stack import LambdaContext, LocalStack

ROOT = Path(__file__).resolve().parents[1]
SITE_DIR = ROOT / "site"
FUNCTION_DIRS = [ROOT / "functions" / name for name in ("common", "create_room", "health")]

# HttpApi route key -> handler module, as in template.yaml.
ROUTES = {"/api/rooms": "create_room", "/api/health": "health"}
MAX_BODY_BYTES = 1024 * 1024

CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".json": "application/json",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".ico": "image/x-icon",
    ".txt": "text/plain; charset=utf-8",
    ".webmanifest": "application/manifest+json",
}

# The headers CloudFront's response-headers policy adds in template.yaml (CSP kept identical).
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self' https://unpkg.com; style-src 'self'; "
    "img-src 'self' data:; connect-src 'self'; frame-src https://*.daily.co; "
    "frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "strict-origin-when-cross-origin",
    "X-Frame-Options": "DENY",
    "Permissions-Policy": (
        'camera=(self "https://*.daily.co"), microphone=(self "https://*.daily.co"), '
        'display-capture=(self "https://*.daily.co"), fullscreen=(self "https://*.daily.co")'
    ),
}


def load_handlers() -> dict[str, ModuleType]:
    """Import the handler modules (only once the local stack has set the environment)."""
    for directory in FUNCTION_DIRS:
        if str(directory) not in sys.path:
            sys.path.insert(0, str(directory))
    return {path: importlib.import_module(module) for path, module in ROUTES.items()}


def http_api_event(
    method: str,
    target: str,
    headers: list[tuple[str, str]],
    body: bytes,
    source_ip: str,
    route_key: str,
) -> dict[str, Any]:
    """The HttpApi payload v2 event API Gateway would send for this request."""
    split = urlsplit(target)
    merged: dict[str, str] = {}
    cookies: list[str] = []
    for name, value in headers:
        key = name.lower()
        if key == "cookie":
            cookies.extend(part.strip() for part in value.split(";") if part.strip())
        else:
            merged[key] = f"{merged[key]},{value}" if key in merged else value
    now = datetime.now(UTC)
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": route_key,
        "rawPath": split.path,
        "rawQueryString": split.query,
        "headers": merged,
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "local",
            "domainName": merged.get("host", "localhost"),
            "domainPrefix": "local",
            "http": {
                "method": method,
                "path": split.path,
                "protocol": "HTTP/1.1",
                "sourceIp": source_ip,
                "userAgent": merged.get("user-agent", ""),
            },
            "requestId": str(uuid.uuid4()),
            "routeKey": route_key,
            "stage": "$default",
            "time": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
            "timeEpoch": int(now.timestamp() * 1000),
        },
        "isBase64Encoded": False,
    }
    if cookies:
        event["cookies"] = cookies
    query: dict[str, str] = {}
    for name, value in parse_qsl(split.query, keep_blank_values=True):
        query[name] = f"{query[name]},{value}" if name in query else value
    if query:
        event["queryStringParameters"] = query
    if body:
        try:
            event["body"] = body.decode("utf-8")
        except UnicodeDecodeError:
            event["body"] = base64.b64encode(body).decode("ascii")
            event["isBase64Encoded"] = True
    return event


class DevServer(ThreadingHTTPServer):
    """Serves `site_dir` and, once `use_stack` has run, the API."""

    daemon_threads = True

    def __init__(self, host: str, port: int, site_dir: Path = SITE_DIR, *, quiet: bool = False):
        self.address_family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.site_dir = site_dir.resolve()
        self.quiet = quiet
        self.stack: LocalStack | None = None
        self.handlers: dict[str, ModuleType] = {}
        # One invocation at a time per function, like one warm Lambda container.
        self.locks = {path: threading.Lock() for path in ROUTES}
        super().__init__((host, port), DevRequestHandler)

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        shown = "127.0.0.1" if host in ("0.0.0.0", "::") else host
        return f"http://[{shown}]:{port}/" if ":" in shown else f"http://{shown}:{port}/"

    def use_stack(self, stack: LocalStack) -> None:
        self.stack = stack
        self.handlers = load_handlers()

    def invoke(self, path: str, event: dict[str, Any]) -> dict[str, Any]:
        """Run one handler as Lambda would, behind CloudFront."""
        if self.stack is None:
            raise RuntimeError("use_stack() must run before the API is served")
        viewer_ip = event["requestContext"]["http"]["sourceIp"]
        event["headers"].update(self.stack.cdn_headers(viewer_ip))
        module = self.handlers[path]
        with self.locks[path]:
            return module.handler(event, LambdaContext(function_name=module.__name__))


class DevRequestHandler(BaseHTTPRequestHandler):
    server: DevServer
    protocol_version = "HTTP/1.1"
    server_version = "localdev"

    def do_GET(self) -> None:
        self._dispatch()

    do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = do_GET

    def _dispatch(self) -> None:
        path = urlsplit(self.path).path
        if path.startswith("/api/") or path == "/api":
            self._api(path)
        elif self.command in ("GET", "HEAD"):
            self._static(path)
        else:
            self._send(405, {"Allow": "GET, HEAD", "Content-Type": "text/plain"}, b"Use GET.\n")

    def _api(self, path: str) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY_BYTES:
            self.close_connection = True
            self._send_json(413, "payload_too_large", "The request body is too large.")
            return
        body = self.rfile.read(length) if length else b""
        if path not in ROUTES:
            self._send_json(404, "not_found", "There is no such endpoint.")
            return
        event = http_api_event(
            self.command,
            self.path,
            list(self.headers.items()),
            body,
            self.client_address[0],
            f"ANY {path}",
        )
        try:
            result = self.server.invoke(path, event)
        except Exception:
            # What API Gateway answers when a function crashes; the traceback is for the developer.
            traceback.print_exc()
            self._send_json(500, "internal_error", "The function failed; see the dev server log.")
            return
        raw = result.get("body") or ""
        payload = base64.b64decode(raw) if result.get("isBase64Encoded") else raw.encode()
        headers = {**SECURITY_HEADERS, **(result.get("headers") or {})}
        cookies = result.get("cookies") or []
        self._send(int(result.get("statusCode", 200)), headers, payload, cookies)

    def _static(self, path: str) -> None:
        relative = unquote(path).lstrip("/") or "index.html"
        file = (self.server.site_dir / relative).resolve()
        if not file.is_relative_to(self.server.site_dir) or not file.is_file():
            self._send(404, {"Content-Type": "text/plain; charset=utf-8"}, b"Not found.\n")
            return
        content_type = CONTENT_TYPES.get(file.suffix, "application/octet-stream")
        headers = {**SECURITY_HEADERS, "Content-Type": content_type, "Cache-Control": "no-cache"}
        self._send(200, headers, file.read_bytes())

    def _send_json(self, status: int, code: str, message: str) -> None:
        body = {"error": code, "message": message, "requestId": str(uuid.uuid4())}
        headers = {**SECURITY_HEADERS, "Content-Type": "application/json"}
        self._send(status, headers, json.dumps(body).encode())

    def _send(
        self, status: int, headers: dict[str, str], body: bytes, cookies: Sequence[str] = ()
    ) -> None:
        self.send_response(status)
        for name, value in headers.items():
            if name.lower() not in ("content-length", "connection"):
                self.send_header(name, value)
        for cookie in cookies:
            self.send_header("Set-Cookie", cookie)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        if not self.server.quiet:
            stamp = time.strftime("%H:%M:%S")
            sys.stderr.write(f"{stamp} {self.address_string()} {format % args}\n")


def serve(host: str, port: int, stack: LocalStack, *, quiet: bool = False) -> DevServer:
    """Start the dev server in a background thread; stop it with shutdown() and server_close()."""
    server = DevServer(host, port, quiet=quiet)
    server.use_stack(stack)
    threading.Thread(target=server.serve_forever, name="localdev", daemon=True).start()
    return server
