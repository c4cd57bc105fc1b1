"""200 concurrent creates from 20 viewers, in 10 processes sharing moto's DynamoDB.

moto's DynamoDB here behaves as DynamoDB does (tests/helpers/dynamodb.py): writes are atomic,
and transactions that overlap on an item are cancelled, so the creates really conflict on the
day's counter and must retry rather than fail.

How long the retries take depends on the machine, and the time a create takes is measured in
benchmarks, not here: each create gets a deadline of a minute, so that only the limits decide
which creates succeed.
"""

from __future__ import annotations

import multiprocessing
import time
from collections import Counter

import pytest

from tests.helpers.concurrency import run_container

CONTAINERS = 10
VIEWERS = [f"198.51.100.{n}" for n in range(1, 21)]
PER_VIEWER = 5
DAY = 86_400
DEADLINE = 60


def wait_clear_of_midnight(margin: float = 60.0) -> None:
    """Counters are per UTC day here; don't let a run straddle two days."""
    left = DAY - time.time() % DAY
    if left < margin:
        time.sleep(left + 1)


def create_concurrently(stack, per_day: int) -> list[tuple[str, int, str | None]]:
    env = {
        **stack.env,
        "VIEWER_ROOM_LIMIT": str(PER_VIEWER),
        "VIEWER_WINDOW_SECONDS": str(DAY),
        "DAILY_ROOM_CAP": str(per_day),
        "REQUEST_DEADLINE_SECONDS": str(DEADLINE),
    }
    context = multiprocessing.get_context("spawn")
    barrier, out = context.Barrier(CONTAINERS), context.Queue()
    # Each container creates for every viewer, each starting at a different one.
    plans = [VIEWERS[n * 2 :] + VIEWERS[: n * 2] for n in range(CONTAINERS)]
    headers = {"x-origin-verify": stack.origin_secret}
    workers = [
        context.Process(target=run_container, args=(env, plan, headers, barrier, out, DEADLINE + 5))
        for plan in plans
    ]
    wait_clear_of_midnight()
    for worker in workers:
        worker.start()
    results = [row for _ in workers for row in out.get(timeout=300)]
    for worker in workers:
        worker.join(timeout=30)
    return results


@pytest.mark.parametrize("per_day", [1000, 60], ids=["per-viewer limit", "daily cap"])
def test_limits_hold_under_concurrency(roomy_daily, dynamodb, per_day: int):
    results = create_concurrently(roomy_daily, per_day)
    created = Counter(viewer for viewer, status, _ in results if status == 201)
    refused = [error for _, status, error in results if status != 201]

    assert len(results) == CONTAINERS * len(VIEWERS) == 200
    assert set(refused) == {"rate_limited"}
    assert max(created.values()) <= PER_VIEWER
    assert sum(created.values()) == min(per_day, PER_VIEWER * len(VIEWERS))
    if per_day >= PER_VIEWER * len(VIEWERS):
        assert all(created[viewer] == PER_VIEWER for viewer in VIEWERS)
    assert len(roomy_daily.daily.rooms) == sum(created.values())
    assert dynamodb.conflicts > 0
