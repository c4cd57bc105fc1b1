"""One deadline per request, started by the handler: every AWS and Daily call fits inside it."""

from __future__ import annotations

import random
import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from urllib3.util import Timeout

# Less than this left is not worth a call: it could only time out.
MIN_CALL_SECONDS = 0.05
CONNECT_TIMEOUT = "deadline_connect_timeout"  # this attempt's connect timeout, in its context


class DeadlineSpent(Exception):
    """Raised instead of starting a call that could not finish before the deadline."""


class Deadline:
    """The time left for all the calls of one request."""

    def __init__(self, seconds: float):
        self.ends = time.monotonic() + max(0.0, seconds)

    def remaining(self) -> float:
        return max(0.0, self.ends - time.monotonic())

    def timeout(self, limit: float) -> float:
        """A call's timeout: `limit`, or less if less time is left; DeadlineSpent if none is."""
        left = self.remaining()
        if left < MIN_CALL_SECONDS:
            raise DeadlineSpent()
        return min(limit, left)

    def allows_wait(self, seconds: float) -> bool:
        """Whether a call could still be made after waiting `seconds`."""
        return self.remaining() - seconds >= MIN_CALL_SECONDS


@dataclass(frozen=True)
class Backoff:
    """Exponential backoff with full jitter: wait U(0, min(cap, base * 2**attempt))."""

    base: float
    cap: float

    def wait(self, attempt: int) -> float:
        return random.uniform(0, min(self.cap, self.base * 2**attempt))  # noqa: S311 (not crypto)


_current: ContextVar[Deadline | None] = ContextVar("deadline", default=None)


@contextmanager
def request_deadline(seconds: float) -> Iterator[Deadline]:
    """Make a new deadline the current one while one request is handled."""
    deadline = Deadline(seconds)
    token = _current.set(deadline)
    try:
        yield deadline
    finally:
        _current.reset(token)


def current() -> Deadline:
    """The current request's deadline (a spent one outside any request)."""
    return _current.get() or Deadline(0)


def bind_to_deadline(client: Any) -> Any:
    """Make every attempt of this boto3 client's calls fit in the current request's deadline.

    The clients are built once per container; each attempt gets what is left of the deadline,
    capped at the client's own timeouts, for its read and for its connect. An attempt with no
    time left is not sent: DeadlineSpent reaches the caller (botocore does not retry it).

    botocore (1.43.68 and later, pinned in the layer: see requirements.txt) takes a per-attempt
    read timeout from the request context (`read_timeout`), in
    `URLLib3Session._get_request_timeout`, which builds the attempt's urllib3 Timeout with the
    client's connect timeout. It has no per-attempt connect timeout, so that method of this
    client's session is wrapped to shorten the connect too. Tests against a listener that never
    answers, and one that never accepts, check both with the pinned botocore.
    """
    config = client.meta.config
    session = client._endpoint.http_session
    client_timeout = session._get_request_timeout

    def before_send(request: Any, **_: Any) -> None:
        deadline = _current.get()
        if deadline is not None:
            left = deadline.timeout(config.read_timeout)
            request.context["read_timeout"] = left
            request.context[CONNECT_TIMEOUT] = min(config.connect_timeout, left)

    def request_timeout(request: Any) -> Timeout | None:
        timeout = client_timeout(request)
        connect = getattr(request, "context", {}).get(CONNECT_TIMEOUT)
        if timeout is None or connect is None:
            return timeout
        return Timeout(connect=connect, read=timeout.read_timeout)

    client.meta.events.register("before-send", before_send)
    session._get_request_timeout = request_timeout
    return client
