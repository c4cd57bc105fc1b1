"""Helpers shared by the tests: sample events, the handler invoker, log capture, subprocesses."""

from __future__ import annotations

import io
import json
import logging
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import requests
import urllib3
from requests.adapters import HTTPAdapter

from localdev.functions import Handler
from localdev.local_stack import LambdaContext, LocalStack

ROOT = Path(__file__).resolve().parents[2]
EVENTS = ROOT / "events"


def load_event(relative: str) -> dict:
    """An event from `events/`, the same files `sam local invoke -e` uses."""
    return json.loads((EVENTS / relative).read_text())


def event_files() -> list[str]:
    """The API's sample events (CodeDeploy's event for the PreTraffic check is tests/hooks')."""
    events = (p for p in EVENTS.glob("*/*.json") if p.parent.name != "pre_traffic")
    return sorted(str(p.relative_to(EVENTS)) for p in events)


def _default_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def start_in_foreground(command: list[str], **options) -> subprocess.Popen:
    """Start a program as a terminal would, so that Ctrl-C (SIGINT) reaches it.

    A test run started in the background by a non-interactive shell ignores SIGINT, and
    children inherit that: Python then never turns Ctrl-C into KeyboardInterrupt.
    """
    return subprocess.Popen(command, preexec_fn=_default_sigint, **options)


@contextmanager
def silent_endpoint(*, accepts: bool = True) -> Iterator[str]:
    """The URL of a real loopback listener that never answers: it accepts connections (the
    kernel completes them) and reads nothing, or with `accepts=False` its accept queue is full,
    so a new connection never completes."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(8 if accepts else 0)
        url = f"http://127.0.0.1:{listener.getsockname()[1]}"
        if accepts:
            yield url
            return
        with socket.create_connection(listener.getsockname()):  # the one queued connection
            yield url


class Invoker:
    """A new container of a function (`build` with `wiring`: localdev/functions.py), called the
    way Lambda calls it, behind CloudFront; its answer decoded."""

    def __init__(self, build: Callable[..., Handler], stack: LocalStack, **wiring: Any):
        self.build = build
        self.stack = stack
        self.wiring = wiring
        self.handler = build(**wiring)

    def new(self, **wiring: Any) -> Invoker:
        """Another container of the same function, with this one's wiring changed by `wiring`
        (other clients, clock or settings)."""
        return Invoker(self.build, self.stack, **{**self.wiring, **wiring})

    def raw(self, event: Any, context: LambdaContext | None = None) -> dict:
        """The handler's own answer to any event, sent as is."""
        return self.handler(event, context or LambdaContext(function_name=self.build.__name__))

    def __call__(
        self, event: dict, *, viewer: str = "198.51.100.7", via_cdn: bool = True
    ) -> tuple[int, dict[str, str], dict]:
        if via_cdn:
            event = {**event, "headers": {**event["headers"], **self.stack.cdn_headers(viewer)}}
        result = self.raw(event)
        body = json.loads(result["body"]) if result.get("body") else {}
        return result["statusCode"], result.get("headers") or {}, body


class MovableClock:
    """The real clock, `ahead` seconds ahead: a function's clock moved without the emulator's."""

    def __init__(self, ahead: float = 0.0):
        self.ahead = ahead

    def __call__(self) -> float:
        return time.time() + self.ahead


class CrashingSession(requests.Session):
    """A bug in the create's own code: its first Daily call raises what no handler expects."""

    def request(self, *args: Any, **kwargs: Any) -> requests.Response:
        raise RuntimeError("a bug")


def _creates_room(request: requests.PreparedRequest) -> bool:
    return request.method == "POST" and (request.url or "").endswith("/rooms")


class DailyTransport(HTTPAdapter):
    """The HTTP transport of a Daily client's session (`session()`), with a test's hands on it:
    every request sent is listed in `sent` as (method, URL), reachable or not; the next `lose`
    answers to `POST /rooms` are lost after Daily has the request; `rewrite` changes the room in
    every `POST /rooms` answer before the client reads it."""

    def __init__(self, lose: int = 0, rewrite: Callable[[dict], object] | None = None):
        super().__init__()
        self.sent: list[tuple[str, str]] = []
        self.lose = lose
        self.rewrite = rewrite

    def session(self) -> requests.Session:
        session = requests.Session()
        session.mount("http://", self)
        return session

    def send(
        self, request: requests.PreparedRequest, *args: Any, **kwargs: Any
    ) -> requests.Response:
        self.sent.append((request.method or "", request.url or ""))
        response = super().send(request, *args, **kwargs)
        if self.lose and _creates_room(request):
            self.lose -= 1
            raise requests.ConnectionError("connection reset after the request was sent")
        return response

    def build_response(self, req: requests.PreparedRequest, resp: Any) -> requests.Response:
        if self.rewrite is not None and _creates_room(req):
            room = json.loads(resp.read())
            resp.release_conn()
            self.rewrite(room)
            body = json.dumps(room).encode()
            resp = urllib3.HTTPResponse(
                body=io.BytesIO(body),
                headers={**resp.headers, "Content-Length": str(len(body))},
                status=resp.status,
                reason=resp.reason,
                preload_content=False,
            )
        return super().build_response(req, resp)


class LogRecorder(logging.Handler):
    """Keeps every line the functions' Powertools loggers write, formatted as in Lambda."""

    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))
