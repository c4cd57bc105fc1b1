import time

T0, CPU0 = time.perf_counter(), time.process_time()  # first line: everything after start-up

"""One measured process of `scripts/bench.py` (run by it; not meant to be run by hand).

    python scripts/bench_child.py MODE SPEC.json RESULT.json

MODE is one of
  handler-cold  import the create handler and serve ONE create (the event from the spec)
  floor-cold    make the same external calls with bare boto3 + requests, nothing else
  handler-warm  import, serve one untimed create, print "ready", then for each "run K" line on
                stdin time K creates one by one and print their [wall, CPU] times; "stop" ends it
  floor-warm    the same for the floor calls (bench.py alternates blocks of the two)
  trace         serve a cold create, then warm creates with and without an Idempotency-Key,
                recording every AWS call (botocore events) and the time span of each create
  baseline      nothing: the harness alone (interpreter + this file's own imports)

The timed span starts at the line above, before any import, and ends when the response is in
hand, so the interpreter's own start-up is excluded equally from every mode. The result is a
JSON file; stdout is sent to /dev/null (it carries the handler's logs and metrics, as in Lambda)
and the warm modes answer on a copy of the original stdout. Only stdlib modules are imported here
before the code under test, and the same ones in every mode.
"""

import json  # noqa: E402 (after the clock on purpose)
import os  # noqa: E402
import resource  # noqa: E402
import sys  # noqa: E402
import uuid  # noqa: E402
from dataclasses import dataclass, field  # noqa: E402
from typing import Any  # noqa: E402

REGION = "us-east-1"
ROOM_TTL_FOR_FLOOR = 300


@dataclass
class LambdaContext:
    """The interface of `localdev.local_stack.LambdaContext` (bench.py checks they match).

    That module imports moto; importing it here would add moto's start-up and memory to the
    figure being measured, so the child carries this stdlib-only copy instead.
    """

    function_name: str = "create_room"
    timeout_seconds: float = 10.0
    memory_limit_in_mb: int = 256
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    started: float = field(default_factory=time.monotonic)

    @property
    def invoked_function_arn(self) -> str:
        return f"arn:aws:lambda:{REGION}:123456789012:function:{self.function_name}"

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self.timeout_seconds - (time.monotonic() - self.started)) * 1000))


def peak_rss_kib() -> int:
    """ru_maxrss (KiB on Linux). bench.py starts this process from a small launcher, as Linux
    carries the high-water mark of the process that exec'd us into this figure."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def vm_hwm_kib() -> int:
    """The peak RSS of this program's own address space (/proc), to cross-check ru_maxrss."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def peaks() -> dict[str, int]:
    return {"peak_rss_kib": peak_rss_kib(), "vm_hwm_kib": vm_hwm_kib()}


def create_event(spec: dict[str, Any], index: int, *, with_key: bool) -> dict[str, Any]:
    """The page's create event for the `index`-th viewer address of this process."""
    base = spec["event"]
    headers = dict(base["headers"])
    octets = spec["ip_base"] + index
    ip = ".".join(str((octets >> shift) & 255) for shift in (24, 16, 8, 0))
    headers["cloudfront-viewer-address"] = f"{ip}:50000"
    if with_key:
        headers["idempotency-key"] = str(uuid.uuid4())
    else:
        headers.pop("idempotency-key", None)
    return {**base, "headers": headers}


# --- the handler ------------------------------------------------------------------------------


def import_handler(spec: dict[str, Any]) -> Any:
    """Import create_room.py; main() has put the code and layer dirs on sys.path, as Lambda."""
    import create_room

    return create_room


def serve(module: Any, event: dict[str, Any]) -> dict[str, Any]:
    result = module.handler(event, LambdaContext())
    if result.get("statusCode") != 201:
        raise RuntimeError(f"create answered {result.get('statusCode')}: {result.get('body')}")
    return result


def handler_cold(spec: dict[str, Any]) -> dict[str, Any]:
    module = import_handler(spec)
    serve(module, spec["event"])
    return elapsed()


def elapsed() -> dict[str, Any]:
    """The timed span (wall and CPU) and the peak memory, taken when the response is in hand."""
    wall, cpu = time.perf_counter() - T0, time.process_time() - CPU0
    return {"seconds": wall, "cpu_seconds": cpu, **peaks()}


def serve_blocks(one_create: Any, answer: Any) -> dict[str, Any]:
    """Answer "run K" lines from stdin with K timed creates' [wall, CPU] seconds, until
    "stop"."""
    answer.write("ready\n")
    answer.flush()
    index = 0
    for line in sys.stdin:
        command, _, count = line.strip().partition(" ")
        if command != "run":
            break
        times = []
        for _ in range(int(count)):
            index += 1
            times.append(one_create(index))
        answer.write(json.dumps(times) + "\n")
        answer.flush()
    return {"creates": index, **peaks()}


def handler_warm(spec: dict[str, Any], answer: Any) -> dict[str, Any]:
    module = import_handler(spec)
    with_key = spec["with_key"]
    serve(module, create_event(spec, 0, with_key=with_key))  # the cold one, not timed

    def one_create(index: int) -> tuple[float, float]:
        event = create_event(spec, index, with_key=with_key)
        start, cpu = time.perf_counter(), time.process_time()
        serve(module, event)
        return time.perf_counter() - start, time.process_time() - cpu

    return serve_blocks(one_create, answer)


# --- the floor: the same external calls with bare clients ---------------------------------------


SHARED_ITEMS = ("day#",)  # the global per-day counter: one item that every create updates


def fresh_ids(value: Any, suffix: str) -> Any:
    """The recorded DynamoDB parameters with each per-create item id (idempotency record,
    viewer counter) made unique to this replay; the shared day counter stays shared."""
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            text = item.get("S") if key == "id" and isinstance(item, dict) else None
            if isinstance(text, str) and not text.startswith(SHARED_ITEMS):
                out[key] = {"S": text + suffix}
            else:
                out[key] = fresh_ids(item, suffix)
        return out
    if isinstance(value, list):
        return [fresh_ids(item, suffix) for item in value]
    return value


def daily_body(body: Any, room: str | None) -> Any:
    """The recorded Daily body with a fresh room name and a current expiry."""
    if not isinstance(body, dict):
        return body
    body = dict(body)
    properties = dict(body.get("properties") or {})
    if "exp" in properties:
        properties["exp"] = int(time.time()) + ROOM_TTL_FOR_FLOOR
    if "room_name" in properties and room:
        properties["room_name"] = room
    if properties:
        body["properties"] = properties
    if "name" in body:
        body["name"] = uuid.uuid4().hex
    return body


class Floor:
    """Bare boto3 clients and one requests.Session, replaying a recorded call list."""

    def __init__(self) -> None:
        import boto3
        import requests

        self.boto3 = boto3
        self.session = requests.Session()
        self.clients: dict[str, Any] = {}
        self.daily_url = os.environ["DAILY_API_URL"].rstrip("/")
        self.api_key = ""
        self.replays = 0

    def client(self, service: str) -> Any:
        if service not in self.clients:
            self.clients[service] = self.boto3.client(service, region_name=REGION)
        return self.clients[service]

    def fetch_api_key(self) -> None:
        answer = self.client("secretsmanager").get_secret_value(
            SecretId=os.environ["DAILY_API_KEY_SECRET"]
        )
        self.api_key = json.loads(answer["SecretString"])["apiKey"]

    def replay(self, calls: list[dict[str, Any]]) -> None:
        self.replays += 1
        suffix = f"#floor-{os.getpid()}-{self.replays}"
        room = None
        for call in calls:
            if call["kind"] == "aws":
                params = fresh_ids(call["params"], suffix)
                answer = getattr(self.client(call["service"]), call["method"])(**params)
                if call["params"].get("SecretId") == os.environ["DAILY_API_KEY_SECRET"]:
                    self.api_key = json.loads(answer["SecretString"])["apiKey"]
            else:
                response = self.session.request(
                    call["method"],
                    self.daily_url + call["path"],
                    json=daily_body(call["body"], room),
                    headers={"Authorization": f"Bearer {self.api_key}"},
                    timeout=(2, 4),
                )
                response.raise_for_status()
                room = response.json().get("name", room)


def floor_cold(spec: dict[str, Any]) -> dict[str, Any]:
    Floor().replay(spec["calls"])
    return elapsed()


def floor_warm(spec: dict[str, Any], answer: Any) -> dict[str, Any]:
    floor = Floor()
    floor.replay(spec["cold_calls"])  # the cold one, not timed (fetches the key once)

    def one_create(index: int) -> tuple[float, float]:
        start, cpu = time.perf_counter(), time.process_time()
        floor.replay(spec["calls"])
        return time.perf_counter() - start, time.process_time() - cpu

    return serve_blocks(one_create, answer)


# --- tracing: which external calls one create makes ----------------------------------------------


class AwsRecorder:
    """Records every AWS call of every botocore client created after `install()`."""

    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []

    def install(self) -> None:
        import botocore.session

        original = botocore.session.Session.create_client
        recorder = self

        def create_client(session: Any, *args: Any, **kwargs: Any) -> Any:
            client = original(session, *args, **kwargs)
            client.meta.events.register("before-parameter-build", recorder.on_parameters)
            client.meta.events.register("before-call", recorder.on_call)
            client.meta.events.register("before-send", recorder.on_send)
            return client

        botocore.session.Session.create_client = create_client

    @staticmethod
    def on_parameters(params: dict[str, Any], model: Any, context: dict, **_: Any) -> None:
        kept = {k: v for k, v in params.items() if k != "ClientRequestToken"}  # regenerated
        context["bench_params"] = json.loads(json.dumps(kept, default=str))

    def on_call(self, model: Any, context: dict, **_: Any) -> None:
        from botocore import xform_name

        self.calls.append(
            {
                "kind": "aws",
                "service": model.service_model.service_name,
                "operation": model.name,
                "method": xform_name(model.name),
                "params": context.get("bench_params", {}),
                "attempts": 0,
                "at": time.monotonic(),
            }
        )

    def on_send(self, **_: Any) -> None:
        if self.calls:
            self.calls[-1]["attempts"] += 1


def trace(spec: dict[str, Any]) -> dict[str, Any]:
    recorder = AwsRecorder()
    recorder.install()
    module = import_handler(spec)
    creates = []
    plan = [("cold", True)] + [(f"warm_with_key_{i}", True) for i in (1, 2)]
    plan += [(f"warm_without_key_{i}", False) for i in (1, 2)]
    for index, (name, with_key) in enumerate(plan):
        first = len(recorder.calls)
        start = time.monotonic()
        serve(module, create_event(spec, index, with_key=with_key))
        creates.append(
            {
                "name": name,
                "with_key": with_key,
                "start": start,
                "end": time.monotonic(),
                "aws_calls": recorder.calls[first:],
            }
        )
    return {"creates": creates, "owner_tokens": module.settings.owner_tokens}


def baseline(spec: dict[str, Any]) -> dict[str, Any]:
    return elapsed()


MODES = {
    "handler-cold": handler_cold,
    "floor-cold": floor_cold,
    "trace": trace,
    "baseline": baseline,
}
WARM_MODES = {"handler-warm": handler_warm, "floor-warm": floor_warm}


def main(argv: list[str]) -> int:
    mode, spec_path, result_path = argv
    answer = os.fdopen(os.dup(1), "w")  # the warm modes' channel to bench.py
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)  # the handler's logs and metrics
    with open(spec_path) as file:
        spec = json.load(file)
    sys.path[:0] = spec.get("sys_path", [])  # the function's code and layer dirs (+ a site)
    result = WARM_MODES[mode](spec, answer) if mode in WARM_MODES else MODES[mode](spec)
    with open(result_path, "w") as file:
        json.dump(result, file)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
