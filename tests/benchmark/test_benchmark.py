"""The benchmark's own pieces: the delaying proxy, the call counter, the floor, the verdicts."""

from __future__ import annotations

import dataclasses
import re
import sysconfig
import time
from pathlib import Path

import boto3
import pytest
import requests
from botocore.config import Config
from botocore.exceptions import EndpointConnectionError

from benchmark.calls import Calls, cold_ok, daily_kind, warm_ok
from benchmark.child import AwsCalls, LambdaContext
from benchmark.figures import paired, ratio
from benchmark.measure import CODE_DIRS, HANDLER, Bench, count_calls, relinked
from benchmark.proxy import DelayProxy
from localdev import local_stack
from localdev.local_stack import LocalStack

ROOT = Path(__file__).resolve().parents[2]
DELAY = 0.1


def test_the_proxy_adds_its_delay_and_passes_answers_through(fresh_stack: LocalStack) -> None:
    proxy = DelayProxy(fresh_stack.daily.base_url, DELAY)
    auth = {"Authorization": f"Bearer {fresh_stack.api_key}"}
    try:
        with requests.Session() as session:
            started = time.monotonic()
            created = session.post(f"{proxy.url}/v1/rooms", json={}, headers=auth, timeout=10)
            first = time.monotonic() - started
            started = time.monotonic()
            found = session.get(f"{proxy.url}/v1/rooms/{created.json()['name']}", headers=auth)
            second = time.monotonic() - started
    finally:
        proxy.close()
    assert created.status_code == 200
    assert found.json() == fresh_stack.daily.rooms[created.json()["name"]]
    assert first >= 2 * DELAY  # the new connection's handshake, then the request's round trip
    assert second >= DELAY
    assert [(r.method, r.path) for r in fresh_stack.daily.requests_log] == [
        ("POST", "/v1/rooms"),
        ("GET", f"/v1/rooms/{created.json()['name']}"),
    ]
    assert proxy.take() == [("POST", "/v1/rooms"), ("GET", f"/v1/rooms/{created.json()['name']}")]


def test_the_counter_counts_every_aws_request_by_kind(fresh_stack: LocalStack) -> None:
    counter = AwsCalls()
    counter.install()
    try:
        dynamodb, secrets = boto3.client("dynamodb"), boto3.client("secretsmanager")
        unreachable = boto3.client(
            "dynamodb",
            endpoint_url="http://127.0.0.1:9",
            config=Config(
                connect_timeout=0.2, retries={"total_max_attempts": 2, "mode": "standard"}
            ),
        )
        dynamodb.put_item(TableName=local_stack.STATE_TABLE, Item={"id": {"S": "bench#1"}})
        dynamodb.get_item(TableName=local_stack.STATE_TABLE, Key={"id": {"S": "bench#1"}})
        secrets.get_secret_value(SecretId=local_stack.SECRET_NAME)
        with pytest.raises(EndpointConnectionError):
            unreachable.get_item(TableName="t", Key={"id": {"S": "x"}})
    finally:
        counter.uninstall()
    boto3.client("dynamodb").describe_table(TableName=local_stack.STATE_TABLE)  # not counted
    calls = Calls.of(counter.take(), [("POST", "/v1/rooms"), ("GET", "/v1/rooms/a-b_c")])
    assert calls.kinds == {
        "DynamoDB PutItem": 1,
        "DynamoDB GetItem": 3,  # one, then two attempts at an unreachable endpoint
        "Secrets Manager GetSecretValue": 1,
        "Daily POST /rooms": 1,
        "Daily GET /rooms/:name": 1,
    }
    assert calls.total == 7


def test_the_floor_makes_exactly_the_minimal_calls(fresh_stack: LocalStack) -> None:
    """Run as the bench runs it: a child process, AWS counted in it, Daily from the emulator."""
    bench = Bench(fresh_stack, [sysconfig.get_paths()["purelib"]])
    cold, *warm = count_calls(bench, "floor")
    assert cold.kinds == {
        "Secrets Manager GetSecretValue": 1,
        "DynamoDB PutItem": 1,
        "Daily POST /rooms": 1,
    }
    assert [create.kinds for create in warm] == [
        {"DynamoDB PutItem": 1, "Daily POST /rooms": 1}
    ] * 2
    assert len(fresh_stack.daily.rooms) == 3


def test_the_verdicts_follow_the_issue_targets() -> None:
    before = Calls.of(
        ["dynamodb TransactWriteItems", "dynamodb PutItem", "dynamodb UpdateItem"],
        [("POST", "/v1/rooms"), ("POST", "/v1/meeting-tokens")],
    )
    after = Calls.of(["dynamodb TransactWriteItems"], [("POST", "/v1/rooms")])
    with_secret = Calls.of(["secrets-manager GetSecretValue"], [("POST", "/v1/rooms")])
    assert (warm_ok(before), warm_ok(after), warm_ok(with_secret)) == (False, True, False)
    assert before.summary == "5: 3 DynamoDB, 2 Daily, 0 secret, 1 token"
    assert (cold_ok(before), cold_ok(after)) == (False, True)
    assert daily_kind("GET", "/v1/") == "Daily GET /"
    assert ratio("r", [2.3, 2.5, 2.4], [1.0, 1.1, 0.9], 1.15).passed is False
    assert ratio("r", [1.1, 1.2, 1.0], [1.0, 1.1, 0.9], 1.15).passed is True
    assert paired("r", [2.0, 1.1, 1.0], [1.0, 1.0, 0.5], 1.15).value == 2.0


def test_relinking_moves_only_the_given_services() -> None:
    env = {"A": "http://127.0.0.1:4000", "B": "http://127.0.0.1:40001/v1", "C": "x"}
    env["D"] = "http://127.0.0.1:4000/v1"
    moved = relinked(env, {"http://127.0.0.1:4000": "http://127.0.0.1:5000"})
    assert moved == {**env, "A": "http://127.0.0.1:5000", "D": "http://127.0.0.1:5000/v1"}


def test_the_bench_drives_the_functions_lambda_entry_point() -> None:
    template = (ROOT / "template.yaml").read_text()
    function = re.search(r"\n  CreateRoomFunction:\n(?:    .*\n|\n)+", template)
    assert function is not None
    entry = re.findall(r"(CodeUri|Handler): (\S+)", function[0])
    assert entry == [("CodeUri", f"{Path(CODE_DIRS[0]).relative_to(ROOT)}/"), ("Handler", HANDLER)]
    assert f"ContentUri: {Path(CODE_DIRS[1]).relative_to(ROOT)}/" in template


def test_the_context_stand_in_offers_what_localdev_s_offers() -> None:
    ours, theirs = LambdaContext(), local_stack.LambdaContext()
    for field in dataclasses.fields(theirs):
        assert hasattr(ours, field.name), field.name
    assert ours.invoked_function_arn.startswith("arn:aws:lambda:")
    assert 9000 < ours.get_remaining_time_in_millis() <= theirs.timeout_seconds * 1000
