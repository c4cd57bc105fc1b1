"""One deadline per request, started by the handler: every AWS and Daily call fits inside it."""

from __future__ import annotations

import random
import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

# Less than this left is not worth a call: it could only time out.
MIN_CALL_SECONDS = 0.05


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

    botocore takes a per-attempt read timeout from the request context (`read_timeout`, see
    botocore.httpsession.URLLib3Session._get_request_timeout), so the clients are built once
    and each attempt gets what is left, capped at the client's own read timeout. An attempt
    with no time left is not sent: DeadlineSpent reaches the caller (botocore retries it not).
    """
    read_timeout = client.meta.config.read_timeout

    def before_send(request: Any, **_: Any) -> None:
        deadline = _current.get()
        if deadline is not None:
            request.context["read_timeout"] = deadline.timeout(read_timeout)

    client.meta.events.register("before-send", before_send)
    return client
