"""Fixtures shared by every test: the local stack, the handlers, events and captured logs."""

from __future__ import annotations

import importlib
import json
import logging
import os
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest
from hypothesis import settings as hypothesis_settings

from localdev.local_stack import LambdaContext, LocalStack, start_local_stack

ROOT = Path(__file__).resolve().parents[1]
EVENTS = ROOT / "events"

hypothesis_settings.register_profile("ci", max_examples=2000, deadline=None)
hypothesis_settings.register_profile("fuzz", max_examples=10000, deadline=None)
hypothesis_settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


def load_event(relative: str) -> dict:
    """An event from `events/`, the same files `sam local invoke -e` uses."""
    return json.loads((EVENTS / relative).read_text())


def event_files() -> list[str]:
    return sorted(str(p.relative_to(EVENTS)) for p in EVENTS.glob("*/*.json"))


def _default_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def start_in_foreground(command: list[str], **options) -> subprocess.Popen:
    """Start a program as a terminal would, so that Ctrl-C (SIGINT) reaches it.

    A test run started in the background by a non-interactive shell ignores SIGINT, and
    children inherit that: Python then never turns Ctrl-C into KeyboardInterrupt.
    """
    return subprocess.Popen(command, preexec_fn=_default_sigint, **options)


@pytest.fixture(scope="session")
def stack() -> Iterator[LocalStack]:
    """moto's server and the Daily emulator on loopback, shared by the whole run."""
    local = start_local_stack()
    yield local
    local.close()


@pytest.fixture
def fresh_stack(stack: LocalStack) -> LocalStack:
    """The shared stack, reset: empty emulator, configured secret, caches cleared."""
    stack.reset()
    return stack


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


@pytest.fixture
def create_room(fresh_stack: LocalStack) -> Invoker:
    """The create-room handler, imported once the stack's environment is set."""
    return Invoker(importlib.import_module("create_room"), fresh_stack)


@pytest.fixture
def health(fresh_stack: LocalStack) -> Invoker:
    return Invoker(importlib.import_module("health"), fresh_stack)


class LogRecorder(logging.Handler):
    """Keeps every line the functions' Powertools loggers write, formatted as in Lambda."""

    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


@pytest.fixture
def logs(create_room: Invoker, health: Invoker) -> Iterator[LogRecorder]:
    """Every log line of the functions during one test, at DEBUG level."""
    service_logger = logging.getLogger(os.environ["POWERTOOLS_SERVICE_NAME"])
    recorder = LogRecorder()
    recorder.setFormatter(service_logger.handlers[0].formatter)
    level = service_logger.level
    service_logger.addHandler(recorder)
    service_logger.setLevel(logging.DEBUG)
    yield recorder
    service_logger.removeHandler(recorder)
    service_logger.setLevel(level)
