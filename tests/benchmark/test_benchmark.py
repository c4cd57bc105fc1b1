"""The benchmark's own pieces: the delaying proxy, the call counter, the floor, the verdicts."""

from __future__ import annotations

import dataclasses
import json
import re
import sysconfig
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
import requests
from botocore.config import Config
from botocore.exceptions import EndpointConnectionError
from moto.server import ThreadedMotoServer

from benchmark.child import AwsCalls, LambdaContext
from benchmark.figures import Calls, daily_kind, paired
from benchmark.measure import CODE_DIRS, HANDLER, Bench, count_calls, relinked
from benchmark.proxy import DelayProxy
from localdev import local_stack
from localdev.daily_emulator import DailyEmulator

ROOT = Path(__file__).resolve().parents[2]
DELAY = 0.1


class BenchStack:
    """What the bench uses of localdev's LocalStack, on servers and names of its own.

    Not the session's stack: this module runs before tests/deploy, whose moto reset empties
    every moto server in the process (they share their state), the session's included.
    """

    def __init__(self) -> None:
        self.moto = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        self.moto.start()
        host, port = self.moto.get_host_and_port()
        self.daily = DailyEmulator(f"bench-{uuid.uuid4().hex}").start()
        name = f"bench-{uuid.uuid4().hex[:8]}"
        self.env = {
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": local_stack.REGION,
            "AWS_ENDPOINT_URL": f"http://{host}:{port}",
            "DAILY_API_URL": self.daily.base_url,
            "DAILY_API_KEY_SECRET": name,
            "STATE_TABLE": name,
        }
        self.api_key = self.daily.api_key
        secret = json.dumps({"apiKey": self.api_key})
        self.client("secretsmanager").create_secret(Name=name, SecretString=secret)
        self.client("dynamodb").create_table(
            TableName=name,
            KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )

    def client(self, service: str, url: str = "", **options: Any) -> Any:
        return boto3.client(
            service,
            region_name=local_stack.REGION,
            endpoint_url=url or self.env["AWS_ENDPOINT_URL"],
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
            **options,
        )

    def cdn_headers(self, viewer_ip: str) -> dict[str, str]:
        return {"x-origin-verify": "bench", "cloudfront-viewer-address": f"{viewer_ip}:50000"}

    def set_secret(self, value: str) -> None:
        self.client("secretsmanager").put_secret_value(
            SecretId=self.env["DAILY_API_KEY_SECRET"], SecretString=value
        )

    def reset(self) -> None:
        self.daily.reset()


@pytest.fixture(scope="module")
def bench_stack() -> Iterator[BenchStack]:
    stack = BenchStack()
    yield stack
    stack.daily.stop()
    stack.moto.stop()


@pytest.fixture
def fresh(bench_stack: BenchStack) -> BenchStack:
    bench_stack.reset()
    return bench_stack


def test_the_proxy_adds_its_delay_and_passes_answers_through(fresh: BenchStack) -> None:
    proxy = DelayProxy(fresh.daily.base_url, DELAY)
    auth = {"Authorization": f"Bearer {fresh.api_key}"}
    try:
        with requests.Session() as session:
            started = time.monotonic()
            created = session.post(f"{proxy.url}/v1/rooms", json={}, headers=auth, timeout=10)
            first = time.monotonic() - started
            name = created.json()["name"]
            started = time.monotonic()
            found = session.get(f"{proxy.url}/v1/rooms/{name}", headers=auth, timeout=10)
            second = time.monotonic() - started
    finally:
        proxy.close()
    assert created.status_code == 200
    assert found.json() == fresh.daily.rooms[name]
    sent = [("POST", "/v1/rooms"), ("GET", f"/v1/rooms/{name}")]
    assert [(r.method, r.path) for r in fresh.daily.requests_log] == sent
    forwarded = proxy.take()
    assert [(method, path) for method, path, _ in forwarded] == sent
    inside = [seconds for _, _, seconds in forwarded]
    # the new connection's handshake, then the request's round trip, around the upstream's time
    assert first >= 2 * DELAY + inside[0]
    assert second >= DELAY + inside[1]
    assert min(inside) > 0


def test_the_counter_counts_every_aws_request_by_kind(fresh: BenchStack) -> None:
    table, key = fresh.env["STATE_TABLE"], {"id": {"S": "bench#1"}}
    counter = AwsCalls()
    try:
        dynamodb, secrets = fresh.client("dynamodb"), fresh.client("secretsmanager")
        retried = Config(connect_timeout=0.2, retries={"total_max_attempts": 2})
        unreachable = fresh.client("dynamodb", "http://127.0.0.1:9", config=retried)
        dynamodb.put_item(TableName=table, Item=key)
        dynamodb.get_item(TableName=table, Key=key)
        secrets.get_secret_value(SecretId=fresh.env["DAILY_API_KEY_SECRET"])
        with pytest.raises(EndpointConnectionError):
            unreachable.get_item(TableName=table, Key=key)
    finally:
        counter.uninstall()
    fresh.client("dynamodb").describe_table(TableName=table)  # after uninstall: not counted
    calls = Calls.of(counter.take(), [("POST", "/v1/rooms"), ("GET", "/v1/rooms/a-b_c")])
    assert calls == {
        "DynamoDB PutItem": 1,
        "DynamoDB GetItem": 3,  # one, then two attempts at an unreachable endpoint
        "Secrets Manager GetSecretValue": 1,
        "Daily POST /rooms": 1,
        "Daily GET /rooms/:name": 1,
    }
    assert calls.total() == 7


def test_the_floor_makes_exactly_the_minimal_calls(fresh: BenchStack) -> None:
    """Run as the bench runs it: a child process, AWS counted in it, Daily from the emulator."""
    bench = Bench(fresh, [sysconfig.get_paths()["purelib"]])
    cold, *warm = count_calls(bench, "floor")
    assert cold == {
        "Secrets Manager GetSecretValue": 1,
        "DynamoDB PutItem": 1,
        "Daily POST /rooms": 1,
    }
    assert warm == [{"DynamoDB PutItem": 1, "Daily POST /rooms": 1}] * 2
    assert len(fresh.daily.rooms) == 3


def test_the_verdicts_follow_the_issue_targets() -> None:
    before = Calls.of(
        ["dynamodb TransactWriteItems", "dynamodb PutItem", "dynamodb UpdateItem"],
        [("POST", "/v1/rooms"), ("POST", "/v1/meeting-tokens")],
    )
    after = Calls.of(["dynamodb TransactWriteItems"], [("POST", "/v1/rooms")])
    with_secret = Calls.of(["secrets-manager GetSecretValue"], [("POST", "/v1/rooms")])
    assert (before.warm_ok(), after.warm_ok(), with_secret.warm_ok()) == (False, True, False)
    assert before.summary == "5: 3 DynamoDB, 2 Daily, 0 secret, 1 token"
    assert (before.cold_ok(), after.cold_ok()) == (False, True)
    assert daily_kind("GET", "/v1/") == "Daily GET /"
    assert paired("r", [2.3, 2.5, 2.4], [1.0, 1.1, 0.9], 1.15).passed is False
    assert paired("r", [1.1, 1.2, 1.0], [1.0, 1.1, 0.9], 1.15).passed is True
    as_printed = paired("r", [1.16, 1.154], [1.0, 1.0], 1.15)
    assert (as_printed.text, as_printed.passed) == ("1.16x", False)
    assert paired("r", [1.154, 1.15], [1.0, 1.0], 1.15).passed is True
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
