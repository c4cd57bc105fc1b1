"""Fixtures of the emulator's tests: one emulator per module on a fake clock, reset per test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from localdev.daily_emulator import DailyEmulator
from tests.helpers.daily import KEY, START, Client, FakeClock

_clock = FakeClock()


@pytest.fixture(scope="module")
def emulator() -> Iterator[DailyEmulator]:
    with DailyEmulator(api_key=KEY, domain="acme", clock=_clock) as daily:
        yield daily


@pytest.fixture
def clock(emulator: DailyEmulator) -> FakeClock:
    emulator.reset()
    _clock.now = START
    return _clock


@pytest.fixture
def api(emulator: DailyEmulator, clock: FakeClock) -> Client:
    return Client(emulator)
