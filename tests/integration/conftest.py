"""Fixtures of the integration tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from localdev.daily_emulator import RateLimit, RateLimits
from localdev.local_stack import LocalStack


@pytest.fixture
def roomy_daily(fresh_stack: LocalStack) -> Iterator[LocalStack]:
    """Daily's own rate limit is not under test here: let the emulator take the burst."""
    fresh_stack.daily.set_limits(RateLimits(default=RateLimit(10_000, 10_000, 5.0)))
    yield fresh_stack
    fresh_stack.daily.set_limits(RateLimits())
