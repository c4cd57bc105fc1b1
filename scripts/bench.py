"""`make bench`: what the create-room function costs next to the bare clients it must use.

    .venv/bin/python scripts/bench.py [--quick] [--cold N] [--warm N] [--no-build] [--no-page]
                                      [--no-lambda-site] [--json PATH]

One run measures, against moto's server and the Daily emulator on loopback (see BENCHMARKS.md):

1. cold create: a fresh process imports create_room.py and serves one create as the page sends
   it, versus a "floor" process that makes the same external calls with bare boto3 + requests;
2. warm create: per-request time in one warm process each, and the external calls per create;
3. peak RSS of the cold-create process (and of the floor's);
4. `sam build` artifact sizes (each function's own code, the layer's dependencies);
5. the page's first-party bytes and requests in headless Chromium;
plus the `python -X importtime` top contributors of the handler import.

It prints a table (figure, value, target, pass/miss) and writes artifacts/bench.json. It is a
report: the exit code is 0 even when a target is missed (1 only if the bench cannot run at all).
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import datetime as dt
import hashlib
import json
import logging
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[1]
SCRIPTS = ROOT / "scripts"
CHILD = SCRIPTS / "bench_child.py"
FUNCTION_PATH = (str(ROOT / "functions" / "create_room"), str(ROOT / "functions" / "common"))
CREATE_EVENT = ROOT / "events" / "create_room" / "create_no_body.json"
LAYER_REQUIREMENTS = ROOT / "functions" / "common" / "requirements.txt"
DEV_REQUIREMENTS = ROOT / "requirements-dev.txt"
LAMBDA_SITES = ROOT / "artifacts" / "bench-site"
DEFAULT_JSON = ROOT / "artifacts" / "bench.json"

KB = 1000  # targets in KB are read as decimal kilobytes (the stricter reading)
MIB = 1024 * 1024
# The global per-day room cap (500) would trip: one run creates more rooms than that.
CHILD_ENV_OVERRIDES = {"DAILY_ROOM_CAP": "1000000000"}
DYNAMODB_WRITES = {"PutItem", "UpdateItem", "DeleteItem", "TransactWriteItems", "BatchWriteItem"}
CHILD_TIMEOUT_SECONDS = 900
WARM_BLOCK = 10  # warm creates per turn; handler and floor processes take turns

TARGET_COLD_RATIO = 1.25
TARGET_WARM_RATIO = 1.10
TARGET_RSS_MIB = 60.0
TARGET_CODE_KB = 100.0
TARGET_PAGE_KB = 30.0

T = TypeVar("T")


# --- figures and the report --------------------------------------------------------------------


@dataclass
class Figure:
    """One reported number with its target; `check` decides pass/miss for non-numeric targets."""

    section: str
    label: str
    value: float | None
    unit: str = ""
    target: float | None = None
    detail: str = ""
    target_text: str = ""
    check: bool | None = None
    doubt: str = ""  # set when a cross-check disagrees with the verdict: shown as "*"

    @property
    def passed(self) -> bool | None:
        if self.check is not None:
            return self.check and self.value is not None
        if self.target is None:
            return None
        return self.value is not None and self.value <= self.target

    @property
    def result(self) -> str:
        verdict = {True: "pass", False: "MISS", None: ""}[self.passed]
        return f"{verdict}*" if verdict and self.doubt else verdict

    def value_text(self) -> str:
        if self.value is None:
            return "n/a"
        if self.unit == "x":
            return f"{self.value:.2f}x"
        number = f"{self.value:.0f}" if float(self.value).is_integer() else f"{self.value:.1f}"
        return f"{number} {self.unit}".strip()

    def goal_text(self) -> str:
        if self.target_text or self.target is None:
            return self.target_text
        return f"<= {self.target:g}{'x' if self.unit == 'x' else ' ' + self.unit}"

    def as_json(self) -> dict[str, Any]:
        return {**dataclasses.asdict(self), "target": self.goal_text(), "result": self.passed}


def table(figures: Sequence[Figure]) -> str:
    """The figures as an aligned text table, one block per section, then their details."""
    rows = [(f.label, f.value_text(), f.goal_text(), f.result) for f in figures]
    head = ("figure", "value", "target", "result")
    widths = [max(len(row[i]) for row in [head, *rows]) for i in range(4)]

    def line(cells: Sequence[str]) -> str:
        return "  ".join(cell.ljust(widths[i]) for i, cell in enumerate(cells)).rstrip()

    lines = [line(head), line(["-" * w for w in widths])]
    section = None
    for figure, row in zip(figures, rows, strict=True):
        if figure.section != section:
            section = figure.section
            lines.append(f"[{section}]")
        lines.append(line(row))
    details = [
        f"  {f.label}: {f.detail}" + (f" (* {f.doubt})" if f.doubt else "")
        for f in figures
        if f.detail or f.doubt
    ]
    return "\n".join([*lines, "", "details:", *details] if details else lines)


def median(values: Sequence[float]) -> float:
    return statistics.median(values)


def ms(seconds: float) -> float:
    return round(seconds * 1000, 1)


def paired_ratio(handler: Sequence[float], floor: Sequence[float]) -> float:
    """The median of run-by-run ratios (each handler run next to its floor run in time)."""
    return median([h / f for h, f in zip(handler, floor, strict=True)])


def load_average() -> str:
    with contextlib.suppress(OSError):
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    return "n/a"


def spread(values: Sequence[float]) -> str:
    return (
        f"median {median(values) * 1000:.1f} ms, min {min(values) * 1000:.1f}, "
        f"max {max(values) * 1000:.1f}, n={len(values)}"
    )


# --- options and the machine -------------------------------------------------------------------


@dataclass
class Options:
    cold: int
    warm: int
    build: bool
    page: bool
    lambda_site: bool
    json_path: Path


def parse_args(argv: Sequence[str]) -> Options:
    parser = argparse.ArgumentParser(
        prog="scripts/bench.py", description="Benchmark the create-room function (BENCHMARKS.md)."
    )
    parser.add_argument("--quick", action="store_true", help="3 cold runs, 30 warm requests")
    parser.add_argument("--cold", type=int, help="cold runs per process kind (default 7)")
    parser.add_argument("--warm", type=int, help="timed requests per warm process (default 200)")
    parser.add_argument("--no-build", action="store_true", help="skip `sam build` and its figures")
    parser.add_argument("--no-page", action="store_true", help="skip the page in Chromium")
    parser.add_argument(
        "--no-lambda-site",
        action="store_true",
        help="skip the Lambda-like site (a pip --target install of the layer + boto3)",
    )
    parser.add_argument("--json", type=Path, default=DEFAULT_JSON, help="results file")
    args = parser.parse_args(argv)
    return Options(
        cold=max(1, args.cold or (3 if args.quick else 7)),
        warm=max(1, args.warm or (30 if args.quick else 200)),
        build=not args.no_build,
        page=not args.no_page,
        lambda_site=not args.no_lambda_site,
        json_path=args.json,
    )


def git(*args: str) -> str:
    done = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, check=False)
    return done.stdout.strip()


def machine() -> dict[str, Any]:
    cpu = ""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    dirty = " (with uncommitted changes)" if git("status", "--porcelain") else ""
    return {
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "cores": os.cpu_count(),
        "cpu": cpu or platform.processor(),
        "arch": platform.machine(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "commit": git("rev-parse", "--short", "HEAD") + dirty,
        "load_average_at_start": load_average(),
    }


# --- where the children find their code: "sites" ------------------------------------------------


@dataclass
class Site:
    """The interpreter flags, sys.path and environment a measured child runs with."""

    name: str
    sys_path: tuple[str, ...]
    flags: tuple[str, ...] = ()
    env: dict[str, str] = field(default_factory=dict)
    description: str = ""


def venv_site(cache: Path) -> Site:
    """The project's .venv, as the brief describes the Lambda layout: code + layer dirs first."""
    return Site(
        "venv",
        FUNCTION_PATH,
        env={"PYTHONPYCACHEPREFIX": str(cache)},
        description="the project's .venv; functions/create_room + functions/common on sys.path",
    )


def pinned(path: Path, prefix: str = "") -> list[str]:
    lines = [line.split("#")[0].strip() for line in path.read_text().splitlines()]
    return [line for line in lines if line and not line.startswith("-") and line.startswith(prefix)]


def lambda_site(cache: Path) -> Site:
    """A site like Lambda's: only the layer's requirements and boto3 (pip --target, cached under
    artifacts/), run with `python -S` so nothing else of the .venv can be imported."""
    packages = pinned(LAYER_REQUIREMENTS) + (pinned(DEV_REQUIREMENTS, "boto3==") or ["boto3"])
    key = hashlib.sha256("\n".join([*packages, sys.version]).encode()).hexdigest()[:12]
    target = LAMBDA_SITES / key
    if not (target / ".complete").exists():
        shutil.rmtree(target, ignore_errors=True)
        command = [sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
        command += ["--no-input", "--target", str(target), *packages]
        subprocess.run(command, check=True, capture_output=True, text=True, timeout=900)
        (target / ".complete").touch()
    return Site(
        "lambda-like",
        (*FUNCTION_PATH, str(target)),
        ("-S",),
        {"PYTHONPYCACHEPREFIX": str(cache)},
        f"python -S; code dirs + only {' '.join(packages)} (artifacts/bench-site/{key})",
    )


BUILT_SITE = "sam build output, read-only"


def artifact_site(build: dict[str, Any], runtime: Site) -> Site:
    """The `sam build` output as Lambda runs it: read-only, so only the .pyc the build ships are
    used; boto3 from the runtime site, with its cache (Lambda's runtime ships it)."""
    extra = runtime.sys_path[len(FUNCTION_PATH) :]
    return Site(
        BUILT_SITE,
        (build["paths"]["code"], build["paths"]["layer"], *extra),
        runtime.flags,
        {"PYTHONDONTWRITEBYTECODE": "1"},
        "sam build's CreateRoomFunction + CommonLayer dirs, nothing written at run time "
        "(PYTHONDONTWRITEBYTECODE=1: the layer's own .pyc or a compile on every start); "
        "stdlib and boto3 from their caches",
    )


# --- the local stack and the child processes ---------------------------------------------------


@contextlib.contextmanager
def local_stack() -> Iterator[Any]:
    """moto + the Daily emulator on loopback, with the emulator's rate limits out of the way."""
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # moto's per-request log lines
    from localdev.daily_emulator import RateLimit, RateLimits
    from localdev.local_stack import start_local_stack

    stack = start_local_stack()
    unlimited = RateLimit(per_second=10**9, per_window=10**9, window_seconds=1.0)
    stack.daily.set_limits(RateLimits(default=unlimited, delete_room=unlimited))
    try:
        yield stack
    finally:
        stack.close()


def check_context_stand_in() -> None:
    """The child's LambdaContext must offer what localdev.local_stack.LambdaContext offers."""
    if str(SCRIPTS) not in sys.path:
        sys.path.insert(0, str(SCRIPTS))
    import bench_child

    from localdev.local_stack import LambdaContext

    ours = {f.name for f in dataclasses.fields(bench_child.LambdaContext)}
    wanted = {f.name for f in dataclasses.fields(LambdaContext)}
    wanted |= {"invoked_function_arn", "get_remaining_time_in_millis"}
    missing = [
        name for name in wanted if name not in ours and not hasattr(bench_child.LambdaContext, name)
    ]
    if missing:
        raise RuntimeError(f"bench_child.LambdaContext lacks {sorted(missing)}")


class Children:
    """Runs `bench_child.py MODE` with the stack's environment and returns its JSON result."""

    def __init__(self, stack: Any, workdir: Path):
        self.stack = stack
        self.workdir = workdir
        self.env = {**os.environ, **stack.env, **CHILD_ENV_OVERRIDES}
        for name in ("PYTHONDONTWRITEBYTECODE", "PYTHONPYCACHEPREFIX"):  # each site sets these
            self.env.pop(name, None)
        self.next_ip = 0x0A000001  # 10.0.0.1 up: a fresh viewer per create, limits never trip
        self.base_event = json.loads(CREATE_EVENT.read_text())
        self.dynamodb: Any = None
        # A small launcher that forks the child: Linux carries the peak RSS of the process that
        # exec()s into ru_maxrss, and a child forked from this big process would inherit ours.
        timeout = shutil.which("timeout")
        self.launcher = [timeout, str(CHILD_TIMEOUT_SECONDS)] if timeout else []
        if not timeout:
            say("no `timeout` launcher: peak RSS may include the high-water mark of bench.py")

    def addresses(self, count: int) -> int:
        first, self.next_ip = self.next_ip, self.next_ip + count
        return first

    def event(self, ip: int) -> dict[str, Any]:
        """The create event exactly as the page sends it, through CloudFront."""
        address = ".".join(str((ip >> shift) & 255) for shift in (24, 16, 8, 0))
        headers = {**self.base_event["headers"], **self.stack.cdn_headers(address)}
        headers["idempotency-key"] = str(uuid.uuid4())
        return {**self.base_event, "headers": headers}

    def spec(self, site: Site, creates: int = 1, **extra: Any) -> dict[str, Any]:
        ip = self.addresses(creates)
        return {"event": self.event(ip), "ip_base": ip, "sys_path": list(site.sys_path), **extra}

    def reset_state(self) -> None:
        """An empty state table and emulator. moto's TransactWriteItems slows down linearly
        with the table's size (about +3 ms per 100 items here), which would drown the figures."""
        from localdev.local_stack import STATE_TABLE

        if self.dynamodb is None:
            self.dynamodb = self.stack.client("dynamodb")
        self.dynamodb.delete_table(TableName=STATE_TABLE)
        self.dynamodb.create_table(
            TableName=STATE_TABLE,
            KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        self.dynamodb.update_time_to_live(
            TableName=STATE_TABLE,
            TimeToLiveSpecification={"Enabled": True, "AttributeName": "expiration"},
        )
        self.stack.daily.wait_idle()
        self.stack.daily.reset()

    def env_for(self, site: Site) -> dict[str, str]:
        return {**self.env, **site.env}

    def files(self, spec: dict[str, Any]) -> tuple[Path, Path, Path]:
        name = uuid.uuid4().hex[:12]
        spec_path = self.workdir / f"{name}.spec"
        spec_path.write_text(json.dumps(spec))
        return spec_path, self.workdir / f"{name}.json", self.workdir / f"{name}.err"

    def command(self, mode: str, site: Site, spec_path: Path, result_path: Path) -> list[str]:
        python = [sys.executable, *site.flags, str(CHILD), mode, str(spec_path), str(result_path)]
        return [*self.launcher, *python]

    def run(self, mode: str, spec: dict[str, Any], site: Site) -> dict[str, Any]:
        """Run one child to its end and return its result."""
        spec_path, result_path, _ = self.files(spec)
        done = subprocess.run(
            self.command(mode, site, spec_path, result_path),
            env=self.env_for(site),
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            check=False,
        )
        if done.returncode != 0:
            raise RuntimeError(f"bench_child {mode} ({site.name}) failed:\n{done.stderr[-3000:]}")
        return json.loads(result_path.read_text())

    def start(self, mode: str, spec: dict[str, Any], site: Site) -> WarmProcess:
        """Start a warm child that times creates in blocks on request."""
        spec_path, result_path, error_path = self.files(spec)
        with error_path.open("w") as errors:
            process = subprocess.Popen(
                self.command(mode, site, spec_path, result_path),
                env=self.env_for(site),
                cwd=ROOT,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=errors,
                text=True,
            )
        return WarmProcess(f"{mode} ({site.name})", process, result_path, error_path)


class WarmProcess:
    """A running warm child: `run(k)` times k creates in it; `stop()` ends it."""

    def __init__(self, name: str, process: subprocess.Popen, result: Path, errors: Path):
        self.name = name
        self.process = process
        self.result = result
        self.errors = errors

    def _read(self) -> str:
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        if not line:
            self.process.wait(timeout=30)
            raise RuntimeError(f"{self.name} ended early:\n{self.errors.read_text()[-3000:]}")
        return line

    def _send(self, line: str) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(line + "\n")
        self.process.stdin.flush()

    def ready(self) -> None:
        if self._read().strip() != "ready":
            raise RuntimeError(f"{self.name} did not start properly")

    def run(self, count: int) -> list[list[float]]:
        """[wall, CPU] seconds of each of `count` creates."""
        self._send(f"run {count}")
        return json.loads(self._read())

    def stop(self) -> dict[str, Any]:
        with contextlib.suppress(OSError):
            self._send("stop")
        if self.process.wait(timeout=60) != 0:
            raise RuntimeError(f"{self.name} failed:\n{self.errors.read_text()[-3000:]}")
        return json.loads(self.result.read_text())

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()


# --- 2. which external calls one create makes ------------------------------------------------


@dataclass
class Trace:
    """The external calls of a cold create and of warm creates with and without the key."""

    cold: list[dict[str, Any]]
    warm_with_key: list[dict[str, Any]]
    warm_without_key: list[dict[str, Any]]
    owner_tokens: bool
    steady: bool  # both warm creates of each kind made the same calls


def call_kind(call: dict[str, Any]) -> str:
    if call["kind"] == "aws":
        return f"{call['service']} {call['operation']}"
    return f"Daily {call['method']} {call['path']}"


def kinds(calls: Sequence[dict[str, Any]]) -> dict[str, int]:
    return dict(Counter(call_kind(call) for call in calls))


def kinds_text(calls: Sequence[dict[str, Any]]) -> str:
    return ", ".join(f"{kind} x{count}" for kind, count in kinds(calls).items())


def daily_calls(stack: Any, start: float, end: float) -> list[dict[str, Any]]:
    """The emulator's log entries within a create (time.monotonic is shared across processes)."""
    prefix = urlsplit(stack.daily.base_url).path
    return [
        {
            "kind": "daily",
            "method": record.method,
            "path": record.path.removeprefix(prefix),
            "body": record.body,
            "status": record.status,
            "at": record.at,
        }
        for record in stack.daily.requests_log
        if start <= record.at <= end
    ]


def trace_calls(children: Children, site: Site) -> Trace:
    """One instrumented process serves a cold create, then warm ones; AWS calls come from
    botocore's events in the child, Daily calls from the emulator's request log."""
    children.reset_state()
    result = children.run("trace", children.spec(site, creates=8), site)
    merged: dict[str, list[dict[str, Any]]] = {}
    for create in result["creates"]:
        calls = create["aws_calls"] + daily_calls(children.stack, create["start"], create["end"])
        merged[create["name"]] = sorted(calls, key=lambda call: call["at"])
    steady = all(
        kinds(merged[f"{name}_1"]) == kinds(merged[f"{name}_2"])
        for name in ("warm_with_key", "warm_without_key")
    )
    return Trace(
        merged["cold"],
        merged["warm_with_key_2"],
        merged["warm_without_key_2"],
        result["owner_tokens"],
        steady,
    )


def call_summary(calls: Sequence[dict[str, Any]]) -> dict[str, int]:
    """The calls grouped the way the target is written."""
    counted = kinds(calls)
    summary = {
        "dynamodb writes": sum(n for k, n in counted.items() if k.split()[-1] in DYNAMODB_WRITES),
        "Daily POST /rooms": counted.get("Daily POST /rooms", 0),
        "Daily POST /meeting-tokens": counted.get("Daily POST /meeting-tokens", 0),
        "secret fetches": counted.get("secretsmanager GetSecretValue", 0),
    }
    summary["other"] = len(calls) - sum(summary.values())
    return summary


def calls_figure(label: str, calls: Sequence[dict[str, Any]], owner_tokens: bool) -> Figure:
    tokens = 1 if owner_tokens else 0
    expected = {
        "dynamodb writes": 1,
        "Daily POST /rooms": 1,
        "Daily POST /meeting-tokens": tokens,
        "secret fetches": 0,
        "other": 0,
    }
    return Figure(
        "2. external calls per create",
        label,
        len(calls),
        "calls",
        detail=kinds_text(calls),
        target_text=f"{2 + tokens}: 1 limiter write + 1 room + {tokens} token, 0 secrets",
        check=call_summary(calls) == expected,
    )


def calls_figures(trace: Trace) -> list[Figure]:
    figures = [
        calls_figure("warm create, with Idempotency-Key", trace.warm_with_key, trace.owner_tokens),
        calls_figure("warm create, without key", trace.warm_without_key, trace.owner_tokens),
        Figure(
            "2. external calls per create",
            "cold create, with key (what the floor replays)",
            len(trace.cold),
            "calls",
            detail=" -> ".join(call_kind(call) for call in trace.cold),
        ),
    ]
    if not trace.steady:
        figures[0].detail += " (two warm creates of one kind made different calls)"
    return figures


# --- 1 + 3. cold create ------------------------------------------------------------------------


@dataclass
class Cold:
    site: Site
    handler: list[float] = field(default_factory=list)
    floor: list[float] = field(default_factory=list)
    bare: list[float] = field(default_factory=list)
    handler_rss: list[int] = field(default_factory=list)
    floor_rss: list[int] = field(default_factory=list)
    bare_rss: list[int] = field(default_factory=list)
    handler_cpu: list[float] = field(default_factory=list)
    floor_cpu: list[float] = field(default_factory=list)
    hwm_mismatch: int = 0  # runs where ru_maxrss and /proc VmHWM disagree by > 1 MiB


def measure_cold(children: Children, trace: Trace, runs: int, site: Site) -> Cold:
    """Interleaved fresh processes (handler, floor, bare interpreter), after one untimed round
    so that every measured run finds the same bytecode caches."""
    cold = Cold(site)
    for round_number in range(runs + 1):
        children.reset_state()
        handler = children.run("handler-cold", children.spec(site), site)
        floor = children.run("floor-cold", children.spec(site, calls=trace.cold), site)
        bare = children.run("baseline", {"sys_path": list(site.sys_path)}, site)
        if round_number == 0:
            continue
        for result, times, rss, cpu in (
            (handler, cold.handler, cold.handler_rss, cold.handler_cpu),
            (floor, cold.floor, cold.floor_rss, cold.floor_cpu),
            (bare, cold.bare, cold.bare_rss, []),
        ):
            times.append(result["seconds"])
            cpu.append(result["cpu_seconds"])
            rss.append(result["peak_rss_kib"])
            if abs(result["peak_rss_kib"] - result["vm_hwm_kib"]) > 1024:
                cold.hwm_mismatch += 1
    return cold


def doubt(value: float, other: float, target: float | None, other_name: str) -> str:
    """Why a verdict is in doubt: a second estimate of the same ratio gives the other verdict
    (a busy machine); the figure keeps its verdict, marked with "*"."""
    if target is None or (value <= target) == (other <= target):
        return ""
    return f"{other_name} gives {other:.2f}x, the other verdict: the machine was busy, rerun"


def cold_figures(cold: Cold, *, targets: bool = True) -> list[Figure]:
    section = f"1. cold create [{cold.site.name}]"
    ratio = round(median(cold.handler) / median(cold.floor), 3)
    cpu_ratio = round(median(cold.handler_cpu) / median(cold.floor_cpu), 3)
    target = TARGET_COLD_RATIO if targets else None
    return [
        Figure(
            section,
            "handler: import + one create",
            ms(median(cold.handler)),
            "ms",
            detail=spread(cold.handler),
        ),
        Figure(
            section,
            "floor: bare boto3 + requests, same calls",
            ms(median(cold.floor)),
            "ms",
            detail=spread(cold.floor),
        ),
        Figure(
            section,
            "handler / floor",
            ratio,
            "x",
            target,
            doubt=doubt(ratio, cpu_ratio, target, "CPU time"),
            detail=f"{cold.site.description}; run-by-run ratio "
            f"{paired_ratio(cold.handler, cold.floor):.2f}x; the bare interpreter + harness "
            f"takes {median(cold.bare) * 1000:.1f} ms of both",
        ),
        Figure(
            section,
            "CPU time handler / floor",
            cpu_ratio,
            "x",
            detail=f"CPU of the timed span (less sensitive to other load on the machine): "
            f"handler {median(cold.handler_cpu) * 1000:.0f} ms, "
            f"floor {median(cold.floor_cpu) * 1000:.0f} ms",
        ),
    ]


def rss_figures(cold: Cold, *, targets: bool = True) -> list[Figure]:
    section = "3. peak RSS of the cold-create process"
    note = f" ({cold.hwm_mismatch} runs disagreed with VmHWM)" if cold.hwm_mismatch else ""
    return [
        Figure(
            section,
            f"handler [{cold.site.name}]",
            round(median(cold.handler_rss) / 1024, 1),
            "MiB",
            TARGET_RSS_MIB if targets else None,
            detail=f"ru_maxrss, median of {len(cold.handler_rss)}, max "
            f"{max(cold.handler_rss) / 1024:.1f} MiB{note}",
        ),
        Figure(
            section, f"floor [{cold.site.name}]", round(median(cold.floor_rss) / 1024, 1), "MiB"
        ),
        Figure(
            section,
            f"bare interpreter + harness [{cold.site.name}]",
            round(median(cold.bare_rss) / 1024, 1),
            "MiB",
        ),
    ]


# --- 2. warm create ----------------------------------------------------------------------------


@dataclass
class Warm:
    site: Site
    with_key: bool
    handler: list[float]
    floor: list[float]
    handler_cpu: list[float]
    floor_cpu: list[float]


def measure_warm(
    children: Children, trace: Trace, requests: int, site: Site, *, with_key: bool
) -> Warm:
    """One warm handler process and one warm floor process, timed in alternating blocks of
    WARM_BLOCK creates (order swapped each time), so both see the same background load."""
    calls = trace.warm_with_key if with_key else trace.warm_without_key
    spec = children.spec(site, creates=requests + 1, with_key=with_key)
    floor_spec = {"sys_path": list(site.sys_path), "cold_calls": trace.cold, "calls": calls}
    processes = {
        "handler": children.start("handler-warm", spec, site),
        "floor": children.start("floor-warm", floor_spec, site),
    }
    times: dict[str, list[list[float]]] = {"handler": [], "floor": []}
    try:
        for process in processes.values():
            process.ready()
        order = ["handler", "floor"]
        while len(times["handler"]) < requests:
            count = min(WARM_BLOCK, requests - len(times["handler"]))
            for name in order:
                children.reset_state()
                times[name] += processes[name].run(count)
            order.reverse()
        for process in processes.values():
            process.stop()
    finally:
        for process in processes.values():
            process.kill()
    handler, floor = times["handler"], times["floor"]
    return Warm(
        site,
        with_key,
        [wall for wall, _ in handler],
        [wall for wall, _ in floor],
        [cpu for _, cpu in handler],
        [cpu for _, cpu in floor],
    )


def block_ratio(warm: Warm) -> float:
    """The median over blocks of (handler block median / floor block median)."""
    ratios = [
        median(warm.handler[i : i + WARM_BLOCK]) / median(warm.floor[i : i + WARM_BLOCK])
        for i in range(0, len(warm.handler), WARM_BLOCK)
    ]
    return median(ratios)


def warm_figures(warm: Warm, *, target: bool) -> list[Figure]:
    section = f"2. warm create [{warm.site.name}]"
    kind = "with key" if warm.with_key else "without key"
    ratio = round(median(warm.handler) / median(warm.floor), 3)
    cpu_ratio = round(median(warm.handler_cpu) / median(warm.floor_cpu), 3)
    goal = TARGET_WARM_RATIO if target else None
    return [
        Figure(
            section,
            f"handler, {kind}",
            round(median(warm.handler) * 1000, 2),
            "ms",
            detail=spread(warm.handler),
        ),
        Figure(
            section,
            f"floor, {kind}",
            round(median(warm.floor) * 1000, 2),
            "ms",
            detail=spread(warm.floor),
        ),
        Figure(
            section,
            f"handler / floor, {kind}",
            ratio,
            "x",
            goal,
            doubt=doubt(ratio, block_ratio(warm), goal, "the block-by-block ratio"),
            detail=f"block-by-block ratio {block_ratio(warm):.2f}x (blocks of {WARM_BLOCK}, "
            "handler and floor processes taking turns)",
        ),
        Figure(
            section,
            f"CPU time handler / floor, {kind}",
            cpu_ratio,
            "x",
            detail=f"client-side CPU per create (the wait for moto and the emulator excluded): "
            f"handler {median(warm.handler_cpu) * 1000:.2f} ms, "
            f"floor {median(warm.floor_cpu) * 1000:.2f} ms",
        ),
    ]


# --- 4. sam build ------------------------------------------------------------------------------


def build_figures(build: dict[str, Any]) -> list[Figure]:
    section = "4. sam build artifacts"
    if not build["ok"]:
        last = build["error"].splitlines()[-1]
        return [Figure(section, "sam build", None, detail=f"failed: {last}", check=False)]
    figures = [
        Figure(
            section,
            f"{name} own code",
            round(build[name]["bytes"] / KB, 1),
            "KB",
            TARGET_CODE_KB,
            detail=f"{build[name]['bytes']} bytes, {build[name]['zipped']} zipped",
        )
        for name in ("CreateRoomFunction", "HealthFunction")
    ]
    layer = build["CommonLayer"]
    largest = ", ".join(f"{name} {size / KB:.0f}" for name, size in layer["largest"])
    figures.append(
        Figure(
            section,
            "CommonLayer: dependencies + daily_rooms",
            round(layer["bytes"] / KB, 1),
            "KB",
            detail=f"{layer['zipped'] / KB:.0f} KB zipped; daily_rooms "
            f"{layer['shared_package_bytes'] / KB:.1f} KB; largest (KB): {largest}; "
            f"{layer['py_files']} .py and {layer['pyc_files']} .pyc files; boto3 is not in "
            f"it (the runtime provides it); built in {build['seconds']} s",
        )
    )
    return figures


# --- 5. the page -------------------------------------------------------------------------------


def page_figures(page: dict[str, Any]) -> list[Figure]:
    section = "5. the page (site/)"
    first, third = page["first_party"], page["third_party"]
    listing = ", ".join(
        f"{urlsplit(r['url']).path} {r['transfer_bytes']}"
        for r in page["requests"]
        if r["first_party"]
    )
    return [
        Figure(section, "first-party requests", first["count"], detail=f"bytes each: {listing}"),
        Figure(
            section,
            "first-party bytes (transfer)",
            round(first["transfer_bytes"] / KB, 1),
            "KB",
            TARGET_PAGE_KB,
            detail=f"headers {first['header_bytes']} + bodies {first['body_bytes']} bytes, "
            f"served by {page['server']}; bodies gzipped: {first['gzip_bytes']} bytes",
        ),
        Figure(section, "third-party requests", third["count"]),
        Figure(
            section,
            "third-party bytes",
            round(third["body_bytes"] / KB, 1),
            "KB",
            detail=f"daily.js {page['daily_js']}, executed: {page['daily_js_loaded']}; "
            f"{third['gzip_bytes'] / KB:.0f} KB gzipped"
            + (f"; failed requests: {page['failed']}" if page["failed"] else ""),
        ),
    ]


# --- main --------------------------------------------------------------------------------------


def say(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


def attempt(name: str, errors: dict[str, str], action: Callable[[], T]) -> T | None:
    """Run one optional part; its failure is reported instead of ending the bench."""
    try:
        return action()
    except Exception as error:
        detail = getattr(error, "stderr", "") or ""
        errors[name] = f"{type(error).__name__}: {error}" + (
            f"\n{detail[-1500:]}" if detail else ""
        )
        say(f"{name} failed: {errors[name]}")
        return None


@dataclass
class Results:
    trace: Trace
    cold: list[Cold] = field(default_factory=list)
    warm: list[Warm] = field(default_factory=list)
    imports: list[dict[str, Any]] = field(default_factory=list)
    build: dict[str, Any] | None = None
    page: dict[str, Any] | None = None
    errors: dict[str, str] = field(default_factory=dict)


def run_all(options: Options, workdir: Path) -> Results:
    """Every measurement, with the local stack up."""
    with local_stack() as stack:
        check_context_stand_in()
        children = Children(stack, workdir)
        cache = workdir / "pycache"  # one bytecode cache for the venv and lambda-like runs
        venv = venv_site(cache)
        say("tracing the external calls of a create")
        results = Results(trace_calls(children, venv))
        errors = results.errors
        sites = [venv]
        if options.lambda_site:
            say("preparing the Lambda-like site (pip --target, cached in artifacts/bench-site)")
            if (
                site := attempt("lambda-like site", errors, lambda: lambda_site(cache))
            ) is not None:
                sites.append(site)
        for site in sites:
            say(f"cold creates [{site.name}]: {options.cold} x (handler, floor, bare interpreter)")
            results.cold.append(measure_cold(children, results.trace, options.cold, site))
            say(f"warm creates [{site.name}]: {options.warm} per process")
            kinds_measured = (True, False) if site is venv else (True,)
            for with_key in kinds_measured:
                results.warm.append(
                    measure_warm(children, results.trace, options.warm, site, with_key=with_key)
                )
            say(f"python -X importtime [{site.name}]")
            import bench_imports

            imports = attempt(
                f"importtime {site.name}",
                errors,
                lambda s=site: bench_imports.measure(s.sys_path, s.flags, children.env_for(s)),
            )
            if imports:
                results.imports.append({"site": site.name, **imports})
        if options.build:
            from bench_build import measure_build

            say("sam build")
            results.build = attempt("sam build", errors, lambda: measure_build(workdir))
            if results.build and results.build["ok"]:
                say("cold creates from the built artifacts, read-only as in Lambda")
                built = artifact_site(results.build, sites[-1])
                cold = attempt(
                    "built cold",
                    errors,
                    lambda: measure_cold(children, results.trace, options.cold, built),
                )
                if cold:
                    results.cold.append(cold)
        if options.page:
            from bench_page import measure_page

            say("the page in headless Chromium")
            results.page = attempt("page", errors, lambda: measure_page(stack))
    return results


def figures_of(results: Results) -> list[Figure]:
    figures: list[Figure] = []
    for cold in results.cold:
        figures += cold_figures(cold, targets=cold.site.name != BUILT_SITE)
    for warm in results.warm:
        figures += warm_figures(warm, target=warm.with_key)
    figures += calls_figures(results.trace)
    for cold in results.cold:
        figures += rss_figures(cold, targets=cold.site.name != BUILT_SITE)
    if results.build:
        figures += build_figures(results.build)
    if results.page:
        figures += page_figures(results.page)
    return figures


def report_of(
    info: dict[str, Any], options: Options, results: Results, figures: Sequence[Figure]
) -> dict[str, Any]:
    trace = results.trace
    return {
        "machine": info,
        "options": {**dataclasses.asdict(options), "json_path": str(options.json_path)},
        "figures": [figure.as_json() for figure in figures],
        "calls": {
            "owner_tokens": trace.owner_tokens,
            "warm_steady": trace.steady,
            "cold_with_key": kinds(trace.cold),
            "warm_with_key": kinds(trace.warm_with_key),
            "warm_without_key": kinds(trace.warm_without_key),
            "cold_sequence": [call_kind(call) for call in trace.cold],
        },
        "sites": {c.site.name: dataclasses.asdict(c.site) for c in results.cold},
        "samples": {
            "cold": [
                {
                    "site": c.site.name,
                    "handler_s": c.handler,
                    "floor_s": c.floor,
                    "bare_s": c.bare,
                    "handler_rss_kib": c.handler_rss,
                    "floor_rss_kib": c.floor_rss,
                    "bare_rss_kib": c.bare_rss,
                }
                for c in results.cold
            ],
            "warm": [
                {
                    "site": w.site.name,
                    "with_key": w.with_key,
                    "handler_s": w.handler,
                    "floor_s": w.floor,
                }
                for w in results.warm
            ],
        },
        "importtime": results.imports,
        "sam_build": results.build,
        "page": results.page,
        "errors": results.errors,
    }


def print_report(info: dict[str, Any], options: Options, report: dict[str, Any], text: str) -> None:
    print(
        f"\nmake bench - {info['date']} - {info['cores']} cores, {info['cpu']} ({info['arch']})"
        f" - Python {info['python']} - commit {info['commit']}"
    )
    print(
        f"{options.cold} cold runs per process kind, {options.warm} requests per warm process; "
        f"load average {info['load_average_at_start']} at start, "
        f"{info['load_average_at_end']} at end\n"
    )
    print(text)
    calls = report["calls"]
    print(f"\nexternal calls by kind (OWNER_TOKENS on: {calls['owner_tokens']}):")
    for name in ("cold_with_key", "warm_with_key", "warm_without_key"):
        listed = ", ".join(f"{kind} x{n}" for kind, n in calls[name].items())
        print(f"  {name.replace('_', ' ')}: {listed}")
    from bench_imports import text as importtime_text

    for imports in report["importtime"]:
        print("\n" + importtime_text(imports, imports["site"]))
    if report["errors"]:
        print("\nparts that could not be measured:")
        for name, error in report["errors"].items():
            print(f"  {name}: {error}")
    print(f"\nbench took {report['bench_seconds']} s")


def main(argv: Sequence[str] | None = None) -> int:
    options = parse_args(sys.argv[1:] if argv is None else argv)
    for path in (str(ROOT), str(SCRIPTS)):
        if path not in sys.path:
            sys.path.insert(0, path)
    info = machine()
    started = time.monotonic()
    workdir = Path(tempfile.mkdtemp(prefix="bench-"))
    try:
        results = run_all(options, workdir)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    figures = figures_of(results)
    report = report_of(info, options, results, figures)
    report["bench_seconds"] = round(time.monotonic() - started, 1)
    info["load_average_at_end"] = load_average()
    print_report(info, options, report, table(figures))
    options.json_path.parent.mkdir(parents=True, exist_ok=True)
    options.json_path.write_text(json.dumps(report, indent=2, default=str) + "\n")
    print(f"results: {options.json_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
