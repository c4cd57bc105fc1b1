"""`make bench`: the create function next to the minimal I/O of a create (benchmark/README.md).

    .venv/bin/python -m benchmark [--quick] [--cold N] [--warm N] [--json PATH]

It prints the external calls of a cold and two warm creates by kind, then the figures with
PASS/MISS against the issue's targets, and writes them with every sample to artifacts/bench.json.
It is a report: a missed target still exits 0; it fails only when it cannot measure.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import logging
import os
import platform
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

from benchmark.calls import warm_ok
from benchmark.figures import figures_of, table
from benchmark.measure import (
    CODE_DIRS,
    ROOT,
    Bench,
    count_calls,
    lambda_site,
    measure_cold,
    measure_warm,
)
from benchmark.proxy import DelayProxy

DAILY_DELAY, AWS_DELAY = 0.120, 0.010  # seconds added to every call over "the link"
FLOOR_COLD = {"Secrets Manager GetSecretValue": 1, "DynamoDB PutItem": 1, "Daily POST /rooms": 1}


def say(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


def git(*args: str) -> str:
    return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True).stdout.strip()


@contextlib.contextmanager
def local_stack() -> Iterator[Any]:
    """moto's server and the Daily emulator on loopback, the emulator's rate limits lifted."""
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    from localdev.daily_emulator import RateLimit, RateLimits
    from localdev.local_stack import start_local_stack

    stack = start_local_stack()
    unlimited = RateLimit(per_second=10**9, per_window=10**9, window_seconds=1.0)
    stack.daily.set_limits(RateLimits(default=unlimited, delete_room=unlimited))
    try:
        yield stack
    finally:
        stack.close()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmark", description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="3 cold runs, 10 warm creates")
    parser.add_argument("--cold", type=int, help="fresh processes of each kind (default 21)")
    parser.add_argument("--warm", type=int, help="timed warm creates of each kind (default 40)")
    parser.add_argument("--json", type=Path, default=ROOT / "artifacts" / "bench.json")
    args = parser.parse_args(argv)
    runs, warm = args.cold or (3 if args.quick else 21), args.warm or (10 if args.quick else 40)
    started, load = time.monotonic(), os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="bench-") as cache, local_stack() as stack:
        say("the Lambda-like site (a pip --target install, cached under artifacts/bench-site)")
        site, packages = lambda_site()
        bench = Bench(stack, [*CODE_DIRS, str(site)], Path(cache))
        say("counting the external calls of a cold and two warm creates: handler, floor")
        calls = {mode: count_calls(bench, mode) for mode in ("handler", "floor")}
        floor = calls["floor"]
        if floor[0].kinds != Counter(FLOOR_COLD) or not all(map(warm_ok, floor[1:])):
            raise SystemExit(f"the floor made other calls than its minimal ones: {floor}")
        say(f"cold creates: {runs} fresh processes each of handler and floor")
        cold = measure_cold(bench, runs)
        say(f"warm creates with Daily +{DAILY_DELAY}s and AWS +{AWS_DELAY}s: {warm} of each")
        links = {
            "AWS": DelayProxy(stack.moto_url, AWS_DELAY),
            "Daily": DelayProxy(stack.daily.base_url, DAILY_DELAY),
        }
        try:
            link = measure_warm(bench, ("handler", "floor", "post"), warm, links)
        finally:
            for proxy in links.values():
                proxy.close()
    figures = figures_of(calls["handler"], cold, link)
    commit = git("rev-parse", "--short", "HEAD") + (" + changes" * bool(git("status", "-s")))
    info = {
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": f"{os.cpu_count()} cores {platform.machine()}, Python {sys.version.split()[0]}",
        "commit": commit,
        "load": f"{load:.1f} -> {os.getloadavg()[0]:.1f}",
        "seconds": round(time.monotonic() - started, 1),
        "site": "python -S; the code dirs + " + " ".join(packages),
    }
    print(
        f"\nmake bench - {info['date']} - {info['machine']} - commit {commit} - load "
        f"{info['load']}\nsite: {info['site']}\n\nexternal calls by kind:"
    )
    for mode, creates in calls.items():
        for name, create in zip(("cold", "warm", "warm"), creates, strict=True):
            print(f"  {mode:7} {name}: {create.total} - {create.text()}")
    print(f"\n{table(figures)}\n\ntook {info['seconds']} s; results in {args.json}")
    if max(load, os.getloadavg()[0]) > (os.cpu_count() or 1):
        print("the load average exceeded the cores: the cold figures are unreliable; rerun")
    report = {
        **info,
        "figures": [asdict(figure) | {"result": figure.result} for figure in figures],
        "calls": {mode: [dict(c.kinds) for c in creates] for mode, creates in calls.items()},
        "samples": {"cold": cold, "warm": asdict(link)},
    }
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(report, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
