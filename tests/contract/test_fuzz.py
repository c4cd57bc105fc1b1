"""Property-based: schemathesis generates requests from docs/openapi.yaml (valid ones and, in
its negative mode, invalid ones) against `python -m localdev`, and every answer must be
documented (status, headers, Content-Type, body) and none a 5xx.

The server runs with limits high enough for the run (the functions' own settings, as a
deployment's template parameters set them), so creates keep creating rather than all being
429 after the fifth. `API_FUZZ_EXAMPLES` sets the examples per operation (`make api-fuzz`).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator

import pytest
import schemathesis
from schemathesis.specs.openapi.checks import positive_data_acceptance

from tests.helpers.openapi import ROOT, SPEC_PATH

EXAMPLES = int(os.environ.get("API_FUZZ_EXAMPLES", "100"))
# Generous limits: each create still spends, is counted and goes to the Daily emulator.
FUZZ_LIMITS = {
    "VIEWER_ROOM_LIMIT": "100000",
    "IPV6_PREFIX_ROOM_LIMIT": "100000",
    "DAILY_ROOM_CAP": "100000",
}


@pytest.fixture(scope="module")
def localdev_url() -> Iterator[str]:
    """`python -m localdev` on a free loopback port, offline, with the fuzz run's limits."""
    env = {k: v for k, v in os.environ.items() if k != "DAILY_API_KEY"} | FUZZ_LIMITS
    child = subprocess.Popen(
        [sys.executable, "-m", "localdev", "--host", "127.0.0.1", "--port", "0"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert child.stdout is not None
        first = child.stdout.readline()
        assert first.startswith("Demo running at http://127.0.0.1:"), first
        while not child.stdout.readline().startswith("Press Ctrl-C"):
            assert child.poll() is None
        yield first.split(" at ", 1)[1].strip().rstrip("/")
    finally:
        child.send_signal(signal.SIGINT)
        try:
            child.wait(timeout=20)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()


def _schema() -> schemathesis.BaseSchema:
    config = schemathesis.Config()
    config.projects.default.generation.update(
        modes=[schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE],
        max_examples=EXAMPLES,
    )
    return schemathesis.openapi.from_path(SPEC_PATH, config=config)


schema = _schema()


@schema.parametrize()
def test_every_generated_request_gets_a_documented_answer_and_no_5xx(
    case: schemathesis.Case, localdev_url: str
) -> None:
    # Not "every schema-valid request is accepted": an Idempotency-Key reused with another body is
    # refused (400) by design, which no schema can express. Every other check runs.
    case.call_and_validate(base_url=localdev_url, excluded_checks=[positive_data_acceptance])
