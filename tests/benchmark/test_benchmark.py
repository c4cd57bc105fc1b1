"""A create's external calls over the wire, as `make bench` counts them: the handler in a fresh
process behind its Lambda entry point, every HTTP request it sends to AWS (retries included,
whichever client sends it) forwarded by a proxy in front of moto, Daily's in the emulator's log."""

from __future__ import annotations

import sysconfig

from benchmark.measure import CODE_DIRS, Bench, count_calls


def test_a_warm_create_sends_one_dynamodb_request_and_one_daily_post(fresh_stack) -> None:
    bench = Bench(fresh_stack, [*CODE_DIRS, sysconfig.get_paths()["purelib"]])

    cold, *warm = count_calls(bench, "handler")

    assert warm == [{"DynamoDB TransactWriteItems": 1, "Daily POST /rooms": 1}] * 2
    assert cold == {
        "Secrets Manager BatchGetSecretValue": 1,
        "DynamoDB TransactWriteItems": 1,
        "Daily POST /rooms": 1,
    }
    assert len(fresh_stack.daily.rooms) == 3
