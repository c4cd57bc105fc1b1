import time

T0, CPU0 = time.perf_counter(), time.process_time()  # first line: the timed span starts here

"""One measured process, `python -S benchmark/child.py MODE SPEC_JSON` (MODE: handler, floor,
post): "cold", one create timed from the first line, with CPU time and peak RSS; else, the times
of K creates for each `run K` line. Only stdlib modules load before the code under test."""

import importlib  # noqa: E402 (after the clock on purpose)
import json  # noqa: E402
import os  # noqa: E402
import resource  # noqa: E402
import sys  # noqa: E402
import uuid  # noqa: E402
from collections.abc import Callable  # noqa: E402
from dataclasses import dataclass, field  # noqa: E402
from typing import Any  # noqa: E402


@dataclass
class LambdaContext:
    """What localdev.local_stack.LambdaContext offers, without importing moto with it."""

    function_name: str = "create_room"
    timeout_seconds: float = 10.0
    memory_limit_in_mb: int = 256
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:create_room"
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    started: float = field(default_factory=time.monotonic)

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self.timeout_seconds - (time.monotonic() - self.started)) * 1000))


def peak_rss_kib() -> float:
    """This process's peak resident set size: ru_maxrss is in KiB on Linux, in bytes on macOS."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 1024 if sys.platform == "darwin" else peak


def create_event(spec: dict[str, Any], index: int) -> dict[str, Any]:
    """The page's create from this process's `index`-th viewer, with a fresh Idempotency-Key;
    viewers are spread over 10.0.0.0/8 (an odd multiplier is one-to-one modulo 2**24)."""
    ip = 0x0A000000 | (spec["ip_base"] + index) * 2654435761 % (1 << 24)
    address = ".".join(str((ip >> shift) & 255) for shift in (24, 16, 8, 0))
    headers = {**spec["event"]["headers"], "cloudfront-viewer-address": f"{address}:50000"}
    return {**spec["event"], "headers": headers | {"idempotency-key": str(uuid.uuid4())}}


class Floor:
    """The minimal I/O of a create with bare clients on boto3's default session: the key read
    once, then one conditional write of a fresh item (unless `write` is off) and one POST."""

    def __init__(self, write: bool) -> None:
        import boto3
        import requests

        self.boto3, self.session, self.write, self.api_key = boto3, requests.Session(), write, ""
        self.dynamodb: Any = None

    def read_key(self) -> str:
        """The key, its client freed when this returns."""
        secrets = self.boto3.client("secretsmanager")
        text = secrets.get_secret_value(SecretId=os.environ["DAILY_API_KEY_SECRET"])["SecretString"]
        return json.loads(text)["apiKey"] if text.startswith("{") else text

    def __call__(self, _: int) -> None:
        env, now = os.environ, int(time.time())
        self.api_key = self.api_key or self.read_key()
        if self.write:
            self.dynamodb = self.dynamodb or self.boto3.client("dynamodb")
            item = {"id": {"S": f"floor#{uuid.uuid4().hex}"}, "expiration": {"N": str(now + 600)}}
            condition = {"ConditionExpression": "attribute_not_exists(id)"}
            self.dynamodb.put_item(TableName=env["STATE_TABLE"], Item=item, **condition)
        answer = self.session.post(
            env["DAILY_API_URL"].rstrip("/") + "/rooms",
            json={"properties": {"exp": now + 300, "eject_at_room_exp": True}},
            headers={"Authorization": f"Bearer {self.api_key}"},
            timeout=(2, 4),
        )
        answer.raise_for_status()
        answer.json()


def creator(mode: str, spec: dict[str, Any]) -> Callable[[int], None]:
    """One create in this mode (`post`: the floor without its write), imported in the timed span."""
    if mode != "handler":
        return Floor(write=mode == "floor")
    module, _, name = spec["handler"].rpartition(".")
    handler = getattr(importlib.import_module(module), name)

    def serve(index: int) -> None:
        answer = handler(create_event(spec, index), LambdaContext())
        if answer.get("statusCode") != 201:
            raise RuntimeError(f"the create answered {answer.get('statusCode')}: {answer}")

    return serve


def main(mode: str, spec_json: str) -> None:
    answer = os.fdopen(os.dup(1), "w")
    os.dup2(os.open(os.devnull, os.O_WRONLY), 1)  # the handler's logs
    spec = json.loads(spec_json)
    sys.path[:1] = spec["sys_path"]  # the function's code and layer dirs, not benchmark/
    create, index = creator(mode, spec), 0
    if spec.get("cold"):
        create(0)
        wall, cpu = time.perf_counter() - T0, time.process_time() - CPU0
        cold = {"seconds": wall, "cpu": cpu, "rss_kib": peak_rss_kib()}
        print(json.dumps(cold), file=answer, flush=True)
        return
    for line in iter(sys.stdin.readline, ""):  # "run K", until "stop" or the end of stdin
        if not line.startswith("run "):
            return
        times = []
        for _ in range(int(line.split()[1])):
            start = time.perf_counter()
            create(index)
            times.append(time.perf_counter() - start)
            index += 1
        print(json.dumps({"times": times}), file=answer, flush=True)


if __name__ == "__main__":
    main(*sys.argv[1:])
