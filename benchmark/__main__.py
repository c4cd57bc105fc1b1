"""`make bench`: the create function next to the minimal I/O of a create (benchmark/README.md).

A report: the calls by kind, then the figures with PASS/MISS against their targets (also in
artifacts/bench.json with every sample). A miss exits 0; it fails only when it cannot measure.
"""

from __future__ import annotations

import argparse
import datetime as dt
import functools
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict
from pathlib import Path

from benchmark import measure
from benchmark.figures import RESULT, Calls, figures_of, layer, table
from benchmark.proxy import DelayProxy

DAILY_DELAY, AWS_DELAY = 0.120, 0.010  # seconds added to every call over "the link"
FLOOR_COLD = {"Secrets Manager GetSecretValue": 1, "DynamoDB PutItem": 1, "Daily POST /rooms": 1}
say = functools.partial(print, "[bench]", file=sys.stderr, flush=True)


def run(bench: measure.Bench, runs: int, warm: int) -> tuple[dict[str, list[Calls]], dict, dict]:
    """The calls by kind, the cold runs, the warm creates over the link."""
    say("counting the external calls of a cold and two warm creates: handler, floor")
    calls = {mode: measure.count_calls(bench, mode) for mode in ("handler", "floor")}
    if calls["floor"][0] != FLOOR_COLD or not all(c.warm_ok() for c in calls["floor"][1:]):
        raise SystemExit(f"the floor made other calls than its minimal ones: {calls['floor']}")
    say(f"cold creates: {runs} fresh processes each of handler and floor")
    cold = measure.measure_cold(bench, runs)
    say(f"warm creates with Daily +{DAILY_DELAY}s and AWS +{AWS_DELAY}s: {warm} of each")
    links = {
        "AWS": DelayProxy(bench.stack.moto_url, AWS_DELAY),
        "Daily": DelayProxy(bench.stack.daily.base_url, DAILY_DELAY),
    }
    try:
        return calls, cold, measure.measure_warm(bench, ["handler", "floor", "post"], warm, links)
    finally:
        for proxy in links.values():
            proxy.close()


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmark", description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="3 cold runs, 10 warm creates")
    parser.add_argument("--cold", type=int, help="fresh processes of each kind (default 21)")
    parser.add_argument("--warm", type=int, help="timed warm creates of each kind (default 40)")
    parser.add_argument("--json", type=Path, default=measure.ROOT / "artifacts" / "bench.json")
    args = parser.parse_args()
    runs, warm = args.cold or (3 if args.quick else 21), args.warm or (10 if args.quick else 40)
    started, load = time.monotonic(), os.getloadavg()[0]
    from localdev.daily_emulator import RateLimit, RateLimits
    from localdev.local_stack import start_local_stack

    say("the layer, built as `sam build` builds it (functions/common/Makefile), and zipped")
    layer_size = measure.layer_size()
    say("the Lambda-like site (pip --target installs, cached under artifacts/bench-site)")
    site, packages = measure.lambda_site()
    stack = start_local_stack()  # moto's server and the Daily emulator on loopback
    unlimited = RateLimit(per_second=10**9, per_window=10**9, window_seconds=1.0)
    stack.daily.set_limits(RateLimits(default=unlimited, delete_room=unlimited))
    try:
        with tempfile.TemporaryDirectory(prefix="bench-") as cache:
            bench = measure.Bench(stack, [*measure.CODE_DIRS, *map(str, site)], Path(cache))
            calls, cold, link = run(bench, runs, warm)
    finally:
        stack.close()
    figures = [*figures_of(calls["handler"], cold, link), layer(*layer_size)]
    git = ["git", "-C", str(measure.ROOT), "describe", "--always", "--dirty=+changes"]
    info = {
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": f"{os.cpu_count()} cores {platform.machine()}, Python {sys.version.split()[0]}",
        "commit": subprocess.run(git, capture_output=True, text=True).stdout.strip(),
        "load": f"{load:.1f} -> {os.getloadavg()[0]:.1f}",
        "seconds": round(time.monotonic() - started, 1),
        "site": "python -S; the code dirs, the layer, the runtime's SDK: " + " ".join(packages),
    }
    print("\nmake bench - {date} - {machine} - commit {commit} - load {load}".format(**info))
    print(f"site: {info['site']}\n\nexternal calls by kind:")
    for mode, creates in calls.items():
        for name, create in zip(("cold", "warm", "warm"), creates, strict=True):
            kinds = ", ".join(f"{kind} x{n}" for kind, n in sorted(create.items()))
            print(f"  {mode:7} {name}: {create.total()} - {kinds or 'none'}")
    print(f"\n{table(figures)}\n\ntook {info['seconds']} s; results in {args.json}")
    if max(load, os.getloadavg()[0]) > (os.cpu_count() or 1):
        print("the load average exceeded the cores: the cold figures are unreliable; rerun")
    figures_json = [asdict(figure) | {"result": RESULT[figure.passed]} for figure in figures]
    report = info | {"figures": figures_json, "calls": calls, "cold": cold, "warm": link}
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(report, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
