"""Local stand-ins for what the smoke test and the key step talk to.

- `ExecuteApiStandIn`: the HTTP API's own execute-api URL. It runs the real handlers with the
  event API Gateway would send, but without the headers CloudFront adds, as a direct call has.
- `ForwardingProxy`: forwards every request to an upstream and can break it on the way, as a
  misconfigured CloudFront would: drop or replace response headers, send /api/* to another
  origin. It also records what went through (e.g. the Secrets Manager operations deploy.py calls,
  or the order of its S3 requests).
"""

from __future__ import annotations

import base64
import http.client
import threading
from collections.abc import Iterable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

from localdev import functions
from localdev.local_stack import LambdaContext
from localdev.server import http_api_event

ROUTES = {"/api/rooms": "create_room", "/api/health": "health"}  # as in template.yaml
HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "date", "server"}


class LoopbackServer(ThreadingHTTPServer):
    """A threaded HTTP server on 127.0.0.1 that serves in the background until closed."""

    daemon_threads = True

    def __init__(self, handler: type[BaseHTTPRequestHandler]) -> None:
        super().__init__(("127.0.0.1", 0), handler)
        threading.Thread(target=self.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def close(self) -> None:
        self.shutdown()
        self.server_close()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        self.server.answer(self)  # type: ignore[attr-defined]

    do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = do_GET

    def body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def reply(self, status: int, headers: Iterable[tuple[str, str]], body: bytes) -> None:
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


class ExecuteApiStandIn(LoopbackServer):
    """The execute-api URL: the handlers, called without CloudFront's headers."""

    def __init__(self) -> None:
        self.new_containers()
        super().__init__(_Handler)

    def new_containers(self) -> None:
        self.handlers = {path: getattr(functions, name)() for path, name in ROUTES.items()}

    def answer(self, request: _Handler) -> None:
        path = urlsplit(request.path).path
        if path not in self.handlers:  # API Gateway's own answer for a route it lacks
            request.reply(404, [("Content-Type", "application/json")], b'{"message":"Not Found"}')
            return
        event = http_api_event(
            request.command,
            request.path,
            list(request.headers.items()),
            request.body(),
            request.client_address[0],
            f"ANY {path}",
        )
        result = self.handlers[path](event, LambdaContext(function_name=ROUTES[path]))
        raw = result.get("body") or ""
        body = base64.b64decode(raw) if result.get("isBase64Encoded") else raw.encode()
        request.reply(result["statusCode"], (result.get("headers") or {}).items(), body)


class ForwardingProxy(LoopbackServer):
    """Forwards to `upstream` (and /api/* to `api_upstream` when given), minus `drop_headers`,
    with `set_headers` replacing the upstream's values."""

    def __init__(
        self,
        upstream: str,
        *,
        api_upstream: str | None = None,
        drop_headers: Iterable[str] = (),
        set_headers: dict[str, str] | None = None,
    ) -> None:
        self.upstream = upstream
        self.api_upstream = api_upstream
        self.set_headers = set_headers or {}
        self.drop_headers = {name.lower() for name in [*drop_headers, *self.set_headers]}
        self.seen: list[dict[str, str]] = []  # the request headers of every call, in order
        self.requests: list[tuple[str, str]] = []  # (method, path) of every call, in order
        super().__init__(_Handler)

    def answer(self, request: _Handler) -> None:
        self.seen.append({name.lower(): value for name, value in request.headers.items()})
        self.requests.append((request.command, request.path))
        api = self.api_upstream and request.path.startswith("/api/")
        target = urlsplit(self.api_upstream if api else self.upstream)
        connection = http.client.HTTPConnection(target.hostname, target.port, timeout=30)
        headers = {k: v for k, v in request.headers.items() if k.lower() != "host"}
        try:
            connection.request(request.command, request.path, request.body(), headers)
            response = connection.getresponse()
            body = response.read()
        finally:
            connection.close()
        kept = [
            (name, value)
            for name, value in response.getheaders()
            if name.lower() not in HOP_BY_HOP | self.drop_headers
        ]
        request.reply(response.status, [*kept, *self.set_headers.items()], body)
