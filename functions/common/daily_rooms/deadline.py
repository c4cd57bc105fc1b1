"""One deadline per request, started by the handler: every AWS and Daily call fits inside it."""

from __future__ import annotations

import random
import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from botocore.config import Config

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

    def fits(self, seconds: float) -> bool:
        """Whether something that takes up to `seconds` would end before the deadline."""
        return self.remaining() >= seconds

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


def attempt_seconds(config: Config) -> float:
    """The longest one attempt of a botocore call can take: its connect, then its read timeout."""
    return config.connect_timeout + config.read_timeout


def bind_to_deadline(client: Any) -> Any:
    """Refuse every attempt of this boto3 client's calls that could end after the deadline.

    botocore emits `before-send` before each HTTP attempt, its own retries included. An attempt
    takes at most the client's connect timeout plus its read timeout (its `Config`), so one is
    sent only while that much of the current request's deadline is left; otherwise DeadlineSpent
    reaches the caller (botocore does not retry it), which answers a JSON 503 or 504. Outside a
    request only the client's own timeouts apply.
    """
    longest = attempt_seconds(client.meta.config)

    def refuse_late_attempt(**_: Any) -> None:
        deadline = _current.get()
        if deadline is not None and not deadline.fits(longest):
            raise DeadlineSpent()

    client.meta.events.register("before-send", refuse_late_attempt)
    return client
