"""Helpers shared by the tests: sample events, the handler invoker, log capture, subprocesses."""

from __future__ import annotations

import json
import logging
import signal
import socket
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType

from localdev.local_stack import LambdaContext, LocalStack

ROOT = Path(__file__).resolve().parents[1]
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
    """Calls a handler module the way Lambda does, behind CloudFront, and decodes its answer."""

    def __init__(self, module: ModuleType, stack: LocalStack):
        self.module = module
        self.stack = stack

    def __call__(
        self, event: dict, *, viewer: str = "198.51.100.7", via_cdn: bool = True
    ) -> tuple[int, dict[str, str], dict]:
        if via_cdn:
            event = {**event, "headers": {**event["headers"], **self.stack.cdn_headers(viewer)}}
        result = self.module.handler(event, LambdaContext(function_name=self.module.__name__))
        body = json.loads(result["body"]) if result.get("body") else {}
        return result["statusCode"], result.get("headers") or {}, body


class LogRecorder(logging.Handler):
    """Keeps every line the functions' Powertools loggers write, formatted as in Lambda."""

    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))
