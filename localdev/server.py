"""The `make dev` server: serves site/ and runs /api/* through the real Lambda handlers in-process.

Each /api request becomes an HttpApi payload v2 event, with the headers CloudFront adds in
production, and goes to a handler built by the function's own `build` factory, as Lambda's import
builds it (functions.py: each server has its own containers, `use_stack` makes new ones). Every
answer gets the production security headers, read from template.yaml (scripts/site_headers.py), so
the page is tested as served. Offline (Daily emulator) it also stands in for Daily Prebuilt under
/__daily__/ (offline_call.py), and only then does its CSP add `frame-src 'self'` for that frame.

The server's own refusals (unknown methods, malformed request lines, oversized headers or
bodies, missing files) are JSON in the functions' error shape, with the same headers.

Each API request is logged as one line (method, path, status, time, request id); the functions'
own output (JSON logs, metrics) is shown only when the server is verbose.
"""

from __future__ import annotations

import base64
import html
import json
import socket
import sys
import threading
import time
import traceback
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, TextIO
from urllib.parse import parse_qsl, unquote, urlsplit

from localdev import functions
from localdev.call_library import LOCAL_PATH, CallLibrary
from localdev.local_stack import LambdaContext, LocalStack
from localdev.offline_call import PROXY_PATH, OfflineCall
from localdev.security_headers import add_source
from scripts.site_headers import template_headers

ROOT = Path(__file__).resolve().parents[1]
SITE_DIR = ROOT / "site"

# HttpApi route key -> the function's module, as in template.yaml.
ROUTES = {"/api/rooms": "create_room", "/api/health": "health"}
MAX_BODY_BYTES = 1024 * 1024
# The method each route takes (the functions answer the others 405), and the static files'.
ROUTE_METHODS = {"/api/rooms": "POST", "/api/health": "GET"}
STATIC_METHODS = "GET, HEAD"
# The server's own refusals (request line, headers, version) in the functions' error shape.
PROTOCOL_ERRORS = {
    HTTPStatus.BAD_REQUEST: ("invalid_request", "The request line is malformed."),
    HTTPStatus.REQUEST_URI_TOO_LONG: ("uri_too_long", "The request target is too long."),
    HTTPStatus.REQUEST_HEADER_FIELDS_TOO_LARGE: (
        "request_header_fields_too_large",
        "The request has too many header fields, or one that is too long.",
    ),
    HTTPStatus.HTTP_VERSION_NOT_SUPPORTED: (
        "http_version_not_supported",
        "Use HTTP/1.0 or HTTP/1.1.",
    ),
}
SETUP_HINT = (
    "Dev server: its secret holds no Daily key (make dev NO_KEY=1). Run make dev to create rooms "
    "on the offline Daily emulator, or make dev DAILY_API_KEY=<your key> for real Daily rooms."
)

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


class FunctionOutput:
    """Stands in for sys.stdout: drops what the functions print while they run, unless verbose.

    Powertools writes JSON log lines and EMF metrics to stdout, as Lambda expects. Installed
    before the handlers are imported (their loggers keep the stream they find), it lets the dev
    server print one line per request instead, with `--verbose` bringing the functions' back.
    """

    def __init__(self, stream: TextIO, *, verbose: bool):
        self.stream = stream
        self.verbose = verbose
        self.running = threading.local()

    def write(self, text: str) -> int:
        if self.verbose or not getattr(self.running, "function", False):
            return self.stream.write(text)
        return len(text)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.stream, name)


class DevServer(ThreadingHTTPServer):
    """Serves `site_dir` and, once `use_stack` has run, the API (and the offline call)."""

    daemon_threads = True

    def __init__(
        self,
        host: str,
        port: int,
        site_dir: Path = SITE_DIR,
        *,
        quiet: bool = False,
        verbose: bool = False,
    ):
        self.address_family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.site_dir = site_dir.resolve()
        self.quiet = quiet
        self.verbose = verbose
        self.stack: LocalStack | None = None
        self.offline: OfflineCall | None = None
        self.handlers: dict[str, functions.Handler] = {}
        self.output: FunctionOutput | None = None
        # The pinned daily-js served from this machine (call_library.py), once `make dev` has it.
        self.call_library: CallLibrary | None = None
        # One invocation at a time, of any function: Powertools keeps the current event on its
        # router class, which both functions' resolvers share in this one process.
        self.invoke_lock = threading.Lock()
        super().__init__((host, port), DevRequestHandler)

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        shown = "127.0.0.1" if host in ("0.0.0.0", "::") else host
        return f"http://[{shown}]:{port}/" if ":" in shown else f"http://{shown}:{port}/"

    @property
    def security_headers(self) -> dict[str, str]:
        """Production's headers; offline, the CSP also lets the page frame the stand-in."""
        headers = dict(template_headers())
        if self.offline is not None:
            csp = headers["Content-Security-Policy"]
            headers["Content-Security-Policy"] = add_source(csp, "frame-src", "'self'")
        return headers

    def use_stack(self, stack: LocalStack) -> None:
        """Serve the API on `stack`, with new containers of both functions."""
        self.stack = stack
        self.offline = OfflineCall(stack.daily) if stack.daily is not None else None
        self.handlers = {"/api/rooms": functions.create_room(), "/api/health": functions.health()}

    def hide_function_output(self) -> None:
        """Route stdout through FunctionOutput (call before use_stack; the CLI does)."""
        self.output = FunctionOutput(sys.stdout, verbose=self.verbose)
        sys.stdout = self.output

    def invoke(self, path: str, event: dict[str, Any]) -> dict[str, Any]:
        """Run one handler as Lambda would, behind CloudFront."""
        if self.stack is None:
            raise RuntimeError("use_stack() must run before the API is served")
        viewer_ip = event["requestContext"]["http"]["sourceIp"]
        event["headers"].update(self.stack.cdn_headers(viewer_ip))
        context = LambdaContext(function_name=ROUTES[path])
        with self.invoke_lock:
            if self.output is not None:
                self.output.running.function = True
            try:
                return self.handlers[path](event, context)
            finally:
                if self.output is not None:
                    self.output.running.function = False

    def page_additions(self) -> bytes:
        """What index.html gets before </head> here: the dev server's setup hints, and offline
        the stand-in's proxy URL. Production's page has neither."""
        hints = {"setup": SETUP_HINT}
        if self.call_library is not None and not self.call_library.available:
            hints["call-library"] = self.call_library.summary()
        data = " ".join(f'data-{name}="{html.escape(text)}"' for name, text in hints.items())
        meta = f'<meta name="localdev" {data}>\n'.encode()
        return meta + (self.offline.meta_tag() if self.offline is not None else b"")

    def log(self, line: str) -> None:
        """One line of the server's own log (stderr), unless quiet."""
        if not self.quiet:
            sys.stderr.write(f"{time.strftime('%H:%M:%S')} {line}\n")


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
        elif self.command not in ("GET", "HEAD"):
            self._method_not_allowed(STATIC_METHODS, close=True)  # its body is left unread
        elif path == LOCAL_PATH and self.server.call_library is not None:
            self._call_library()
        elif self.server.offline is not None and path.startswith(PROXY_PATH + "/"):
            answer = self.server.offline.answer(path)
            self._send(answer.status, answer.headers, answer.body)
        else:
            self._static(path)

    def _api(self, path: str) -> None:
        started = time.monotonic()
        length_header = (self.headers.get("Content-Length") or "0").strip()
        if not (length_header.isascii() and length_header.isdigit()):
            self._send_json(400, "invalid_request", "Content-Length is not a number.", close=True)
            return
        length = int(length_header)
        if length > MAX_BODY_BYTES:
            self._send_json(413, "payload_too_large", "The request body is too large.", close=True)
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
        request_id = event["requestContext"]["requestId"]
        try:
            result = self.server.invoke(path, event)
        except Exception:
            # What API Gateway answers when a function crashes; the traceback is for the developer.
            traceback.print_exc()
            self._send_json(500, "internal_error", "The function failed; see the dev server log.")
            self._log_api(path, 500, started, request_id, "internal_error")
            return
        raw = result.get("body") or ""
        payload = base64.b64decode(raw) if result.get("isBase64Encoded") else raw.encode()
        headers = {**self.server.security_headers, **(result.get("headers") or {})}
        cookies = result.get("cookies") or []
        status = int(result.get("statusCode", 200))
        self._send(status, headers, payload, cookies)
        self._log_api(path, status, started, request_id, _error_code(payload, status))

    def _log_api(
        self, path: str, status: int, started: float, request_id: str, error: str | None
    ) -> None:
        millis = (time.monotonic() - started) * 1000
        code = f" {error}" if error else ""
        self.server.log(
            f"{self.command} {path} {status}{code} {millis:.0f} ms request {request_id}"
        )

    def _static(self, path: str) -> None:
        relative = unquote(path).lstrip("/") or "index.html"
        file = (self.server.site_dir / relative).resolve()
        if not file.is_relative_to(self.server.site_dir) or not file.is_file():
            self._send_json(404, "not_found", "There is no such file.")
            return
        content_type = CONTENT_TYPES.get(file.suffix, "application/octet-stream")
        headers = {
            **self.server.security_headers,
            "Content-Type": content_type,
            "Cache-Control": "no-cache",
        }
        body = file.read_bytes()
        if file == self.server.site_dir / "index.html":
            body = body.replace(b"</head>", self.server.page_additions() + b"</head>", 1)
            if self.server.call_library is not None:
                body = self.server.call_library.page(body)
        self._send(200, headers, body)

    def _call_library(self) -> None:
        """The checked daily-js, or a 404 saying why there is none (the page then says so)."""
        library = self.server.call_library
        assert library is not None
        if library.body is None:
            self._send_json(404, "not_found", library.summary())
            return
        headers = {
            **self.server.security_headers,
            "Content-Type": CONTENT_TYPES[".js"],
            "Cache-Control": "no-cache",
        }
        self._send(200, headers, library.body)

    def _send_json(
        self,
        status: int,
        code: str,
        message: str,
        headers: dict[str, str] | None = None,
        *,
        close: bool = False,
    ) -> None:
        """The server's own error answer, shaped and headed as the functions' are."""
        body = {"error": code, "message": message, "requestId": str(uuid.uuid4())}
        all_headers = {
            **self.server.security_headers,
            "Content-Type": "application/json",
            "Cache-Control": "no-store",
            **(headers or {}),
        }
        self._send(status, all_headers, json.dumps(body).encode(), close=close)

    def _method_not_allowed(self, allow: str, *, close: bool = False) -> None:
        message = f"Use {allow} on this path."
        self._send_json(405, "method_not_allowed", message, {"Allow": allow}, close=close)

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """Answer what the stdlib refuses (request line, headers, version, an unknown method) as
        JSON, like every other answer; an unknown method (the stdlib's 501) is a 405."""
        self.log_error("code %d, message %s", code, message)
        if self.request_version == "HTTP/0.9" and len(self.requestline.split()) >= 3:
            # A request line with a version the stdlib could not accept is no HTTP/0.9 request
            # (whose answer is a bare body): it gets a status line and headers.
            self.request_version = self.protocol_version
        path = urlsplit(getattr(self, "path", "") or "").path
        if code != HTTPStatus.NOT_IMPLEMENTED:
            error, text = PROTOCOL_ERRORS.get(code, PROTOCOL_ERRORS[HTTPStatus.BAD_REQUEST])
            self._send_json(code, error, text, close=True)
        elif path in ROUTE_METHODS:
            self._method_not_allowed(ROUTE_METHODS[path], close=True)
        elif path.startswith("/api/") or path == "/api":
            self._send_json(404, "not_found", "There is no such endpoint.", close=True)
        else:
            self._method_not_allowed(STATIC_METHODS, close=True)

    def _send(
        self,
        status: int,
        headers: dict[str, str],
        body: bytes,
        cookies: Sequence[str] = (),
        *,
        close: bool = False,
    ) -> None:
        self.send_response(status)
        for name, value in headers.items():
            if name.lower() not in ("content-length", "connection"):
                self.send_header(name, value)
        for cookie in cookies:
            self.send_header("Set-Cookie", cookie)
        self.send_header("Content-Length", str(len(body)))
        if close:
            self.send_header("Connection", "close")  # and the stdlib then closes it
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        """Static files and the stand-in are logged only when verbose; the API always is."""
        if self.server.verbose and not urlsplit(self.path).path.startswith("/api"):
            self.server.log(f"{self.command} {self.path} {code}")

    def log_message(self, format: str, *args: Any) -> None:
        self.server.log(format % args)


def _error_code(payload: bytes, status: int) -> str | None:
    """The stable `error` code of an error answer, for the log line."""
    if status < 400:
        return None
    try:
        return str(json.loads(payload)["error"])
    except (ValueError, KeyError, TypeError):
        return None


def serve(
    host: str,
    port: int,
    stack: LocalStack,
    *,
    quiet: bool = False,
    verbose: bool = False,
    call_library: CallLibrary | None = None,
) -> DevServer:
    """Start the dev server in a background thread; stop it with shutdown() and server_close()."""
    server = DevServer(host, port, quiet=quiet, verbose=verbose)
    server.call_library = call_library
    server.use_stack(stack)
    threading.Thread(target=server.serve_forever, name="localdev", daemon=True).start()
    return server
