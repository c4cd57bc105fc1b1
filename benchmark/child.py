import time

T0, CPU0 = time.perf_counter(), time.process_time()  # first line: the timed span starts here

"""One measured process of the benchmark: `python [-S] benchmark/child.py MODE SPEC_JSON`.

MODE `handler` serves the page's create through the function's Lambda entry point (the spec's
`handler`); `floor` makes the minimal I/O of a create with bare boto3 + requests (1 Secrets
Manager read the first time, then 1 DynamoDB write + 1 Daily POST /rooms); `post` reads the key
once, then makes one bare POST /rooms per create (the unprotected original).
With "cold" in the spec it serves one create and answers its time from the first line above,
CPU time and peak RSS. Otherwise it answers each `run K` line on stdin with the times of K
creates (and with "count", each one's AWS requests from botocore's `before-send` events).
Only stdlib modules load before the code under test; stdout (the handler's logs) is discarded.
"""

import importlib  # noqa: E402 (after the clock on purpose)
import json  # noqa: E402
import os  # noqa: E402
import sys  # noqa: E402
import uuid  # noqa: E402
from collections.abc import Callable  # noqa: E402
from dataclasses import dataclass, field  # noqa: E402
from typing import Any  # noqa: E402

ARN = "arn:aws:lambda:us-east-1:123456789012:function:create_room"


@dataclass
class LambdaContext:
    """What localdev.local_stack.LambdaContext offers, without importing moto with it."""

    function_name: str = "create_room"
    timeout_seconds: float = 10.0
    memory_limit_in_mb: int = 256
    invoked_function_arn: str = ARN
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    started: float = field(default_factory=time.monotonic)

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self.timeout_seconds - (time.monotonic() - self.started)) * 1000))


class AwsCalls:
    """Every AWS request (retries included) of every botocore client made after `install()`."""

    def __init__(self) -> None:
        import botocore.session

        self.calls: list[str] = []
        self.session_class = botocore.session.Session
        self.original = self.session_class.create_client

    def install(self) -> None:
        def create_client(session: Any, *args: Any, **kwargs: Any) -> Any:
            client = self.original(session, *args, **kwargs)
            client.meta.events.register("before-send", self.on_send)
            return client

        self.session_class.create_client = create_client

    def uninstall(self) -> None:
        self.session_class.create_client = self.original

    def on_send(self, event_name: str, **_: Any) -> None:
        _, service, operation = event_name.split(".", 2)  # before-send.<service>.<Operation>
        self.calls.append(f"{service} {operation}")

    def take(self) -> list[str]:
        taken, self.calls = self.calls, []
        return taken


def create_event(spec: dict[str, Any], index: int) -> dict[str, Any]:
    """The page's create from this process's `index`-th viewer, with a fresh Idempotency-Key;
    viewers are spread over 10.0.0.0/8 (an odd multiplier is one-to-one modulo 2**24)."""
    ip = 0x0A000000 | (spec["ip_base"] + index) * 2654435761 % (1 << 24)
    address = ".".join(str((ip >> shift) & 255) for shift in (24, 16, 8, 0))
    headers = {**spec["event"]["headers"], "cloudfront-viewer-address": f"{address}:50000"}
    headers["idempotency-key"] = str(uuid.uuid4())
    return {**spec["event"], "headers": headers}


class Floor:
    """The minimal I/O of a create, with bare clients on boto3's default session."""

    def __init__(self) -> None:
        import boto3
        import requests

        self.boto3, self.session = boto3, requests.Session()
        self.dynamodb: Any = None
        self.api_key = ""

    def read_key(self) -> None:
        client = self.boto3.client("secretsmanager")
        value = client.get_secret_value(SecretId=os.environ["DAILY_API_KEY_SECRET"])
        text = value["SecretString"]
        self.api_key = json.loads(text)["apiKey"] if text.startswith("{") else text

    def write(self) -> None:
        """One conditional write of a fresh item, as a create's single write would be."""
        self.dynamodb = self.dynamodb or self.boto3.client("dynamodb")
        item = {
            "id": {"S": f"floor#{uuid.uuid4().hex}"},
            "expiration": {"N": str(int(time.time()) + 600)},
        }
        table = os.environ["STATE_TABLE"]
        self.dynamodb.put_item(
            TableName=table, Item=item, ConditionExpression="attribute_not_exists(id)"
        )

    def post_room(self) -> None:
        answer = self.session.post(
            os.environ["DAILY_API_URL"].rstrip("/") + "/rooms",
            json={"properties": {"exp": int(time.time()) + 300, "eject_at_room_exp": True}},
            headers={"Authorization": f"Bearer {self.api_key}"},
            timeout=(2, 4),
        )
        answer.raise_for_status()
        answer.json()

    def create(self, *, write: bool = True) -> None:
        if not self.api_key:
            self.read_key()
        if write:
            self.write()
        self.post_room()


def creator(mode: str, spec: dict[str, Any]) -> Callable[[int], None]:
    """One create in this mode; the imports happen here, inside the timed span."""
    if mode != "handler":
        floor = Floor()
        return lambda _: floor.create(write=mode == "floor")
    module, _, name = spec["handler"].rpartition(".")
    handler = getattr(importlib.import_module(module), name)

    def serve(index: int) -> None:
        answer = handler(create_event(spec, index), LambdaContext())
        if answer.get("statusCode") != 201:
            raise RuntimeError(f"the create answered {answer.get('statusCode')}: {answer}")

    return serve


def peak_rss_kib() -> int:
    """VmHWM: this program's peak resident set (ru_maxrss can carry the parent's)."""
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))


def serve_runs(create: Callable[[int], None], counter: AwsCalls | None, answer: Any) -> None:
    index = 0
    for line in sys.stdin:
        command, _, count = line.partition(" ")
        if command != "run":
            return
        times, aws = [], []
        for _ in range(int(count)):
            start, cpu = time.perf_counter(), time.process_time()
            create(index)
            times.append([time.perf_counter() - start, time.process_time() - cpu])
            aws.append(counter.take() if counter else [])
            index += 1
        answer.write(json.dumps({"times": times, "aws": aws}) + "\n")
        answer.flush()


def main(mode: str, spec_json: str) -> None:
    answer = os.fdopen(os.dup(1), "w")
    os.dup2(os.open(os.devnull, os.O_WRONLY), 1)
    spec = json.loads(spec_json)
    sys.path[:1] = spec["sys_path"]  # the function's code and layer dirs, not benchmark/
    counter = AwsCalls() if spec.get("count") else None
    if counter:
        counter.install()
    create = creator(mode, spec)
    if not spec.get("cold"):
        return serve_runs(create, counter, answer)
    create(0)
    wall, cpu = time.perf_counter() - T0, time.process_time() - CPU0
    answer.write(json.dumps({"seconds": wall, "cpu": cpu, "rss_kib": peak_rss_kib()}))
    answer.close()


if __name__ == "__main__":
    main(*sys.argv[1:])
