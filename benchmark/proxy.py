"""A delaying reverse proxy: a service on loopback made to look `delay` seconds away."""

from __future__ import annotations

import http.client
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, NamedTuple
from urllib.parse import urlsplit

HOP_BY_HOP = {"connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade"}
NOT_COPIED = HOP_BY_HOP | {"content-length", "server", "date"}


class Forwarded(NamedTuple):
    """One request the proxy forwarded, and the upstream's own time for it."""

    method: str
    path: str
    operation: (
        str  # X-Amz-Target, which names an AWS JSON-protocol call: `DynamoDB_20120810.PutItem`
    )
    seconds: float


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    proxy: DelayProxy


class _Handler(BaseHTTPRequestHandler):
    """Forwards one client connection's requests, each on a new upstream connection."""

    protocol_version = "HTTP/1.1"  # keep-alive to the client, as to a remote HTTPS service
    disable_nagle_algorithm = True  # else headers and body, sent apart, meet delayed ACKs: +40 ms
    server: _Server
    handshake = True  # the first request of a connection also pays for opening it

    def _forward(self) -> None:
        proxy = self.server.proxy
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else None
        headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
        time.sleep(proxy.delay * (1.5 if self.handshake else 0.5))
        self.handshake = False
        upstream = http.client.HTTPConnection(proxy.host, proxy.port, timeout=30)
        started = time.perf_counter()
        try:
            upstream.request(self.command, self.path, body, headers)
            answer = upstream.getresponse()
            payload = answer.read()
        finally:
            upstream.close()
        seconds = time.perf_counter() - started
        operation = self.headers.get("X-Amz-Target", "")
        with proxy.lock:
            proxy.requests.append(Forwarded(self.command, self.path, operation, seconds))
        time.sleep(proxy.delay / 2)
        self.send_response(answer.status, answer.reason)
        for name, value in answer.getheaders():
            if name.lower() not in NOT_COPIED:
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = _forward

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: no line per request."""


class DelayProxy:
    """Answers every request for `upstream` (http://host:port) `delay` seconds later, half on
    the way there, half back, on top of the upstream's own time (recorded with each request).
    The first request of a kept-alive client connection waits one more `delay`: the handshake."""

    def __init__(self, upstream: str, delay: float) -> None:
        parts = urlsplit(upstream)
        self.upstream = f"{parts.scheme}://{parts.netloc}"
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80
        self.delay = delay
        self.requests: list[Forwarded] = []
        self.lock = threading.Lock()
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.proxy = self
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def take(self) -> list[Forwarded]:
        """The requests forwarded since the last call."""
        with self.lock:
            taken, self.requests = self.requests, []
        return taken

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
