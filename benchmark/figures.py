"""The figures of one run: calls by kind, times, ratios and the layer's size, judged against
their targets (benchmark/README.md)."""

from __future__ import annotations

import re
import statistics
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

COLD_CALLS_MAX, COLD_RATIO_MAX, WAIT_MAX, RSS_MAX_MIB, LAYER_MAX_MB = 4, 1.15, 1.15, 55.0, 5.0
WARM_CALLS, COLD_CALLS = "2: 1 DynamoDB, 1 POST /rooms", f"<= {COLD_CALLS_MAX}"
RESULT = {True: "PASS", False: "MISS", None: ""}  # by Figure.passed
SERVICES = {"DynamoDB_20120810": "DynamoDB", "secretsmanager": "Secrets Manager"}
ROOM = re.compile(r"/rooms/[^/]+")


def daily_kind(method: str, path: str) -> str:
    """`POST /v1/rooms` -> `Daily POST /rooms`; `/v1/rooms/abc` -> `/rooms/:name`."""
    path = urlsplit(path).path.removeprefix("/v1") or "/"
    return f"Daily {method} {ROOM.sub('/rooms/:name', path)}"


class Calls(Counter[str]):
    """The calls of one create by kind (`DynamoDB PutItem`, `Daily POST /rooms`), `of` the AWS
    calls' X-Amz-Target (`DynamoDB_20120810.PutItem`) and Daily's (method, path)."""

    @classmethod
    def of(cls, aws: Iterable[str], daily: Iterable[tuple[str, str]]) -> Calls:
        calls = cls(f"{SERVICES.get(s, s)} {op}" for s, _, op in (c.partition(".") for c in aws))
        calls.update(daily_kind(method, path) for method, path in daily)
        return calls

    def count(self, prefix: str) -> int:
        return sum(n for kind, n in self.items() if kind.startswith(prefix))

    @property
    def summary(self) -> str:
        counts = [self.count(p) for p in ("DynamoDB", "Daily", "Secrets", "Daily POST /meeting")]
        return "{}: {} DynamoDB, {} Daily, {} secret, {} token".format(self.total(), *counts)

    def warm_ok(self) -> bool:
        """Exactly one DynamoDB request and one Daily POST /rooms, nothing else."""
        return self.total() == 2 and self.count("DynamoDB") == 1 and self["Daily POST /rooms"] == 1

    def cold_ok(self) -> bool:
        return self.total() <= COLD_CALLS_MAX


@dataclass
class Figure:
    label: str
    value: float
    text: str
    target: str = ""
    passed: bool | None = None  # None: context, no target


def timing(label: str, seconds: Sequence[float]) -> Figure:
    value, low, high = (round(f(seconds) * 1000, 1) for f in (statistics.median, min, max))
    return Figure(label, value, f"{value:.1f} ms ({low:.0f}-{high:.0f}, n={len(seconds)})")


def paired(label: str, top: Sequence[float], bottom: Sequence[float], limit: float = 0) -> Figure:
    """Median of top[i] / bottom[i] (each pair shares its moment's load), judged as printed."""
    value = statistics.median(a / b for a, b in zip(top, bottom, strict=True))
    verdict = (f"<= {limit:g}x", round(value, 2) <= limit) if limit else ("", None)
    return Figure(label, round(value, 3), f"{value:.2f}x", *verdict)


def layer(zipped: int, unpacked: int, files: int) -> Figure:
    value = round(zipped / 1e6, 1)
    text = f"{value:.1f} MB ({unpacked / 1e6:.1f} MB unpacked, {files} files)"
    return Figure(
        "the layer, zipped", value, text, f"<= {LAYER_MAX_MB:g} MB", value <= LAYER_MAX_MB
    )


def figures_of(calls: Sequence[Calls], cold: dict[str, list[dict]], link: dict) -> list[Figure]:
    """`calls`: the handler's cold create and 2 warm ones; `link`: what measure_warm answered."""
    cold_s, cpu, rss = (
        {m: [run[k] for run in runs] for m, runs in cold.items()}
        for k in ("seconds", "cpu", "rss_kib")
    )
    mib = {m: round(statistics.median(kib) / 1024, 1) for m, kib in rss.items()}
    warm, first, last = link["seconds"], calls[0], calls[-1]
    warm_calls, cold_calls = all(c.warm_ok() for c in calls[1:]), first.cold_ok()
    rss_max, rss_ok = f"<= {RSS_MAX_MIB:g} MiB", mib["handler"] <= RSS_MAX_MIB

    def peak(mode: str, *verdict: Any) -> Figure:
        return Figure(f"cold create: peak RSS, {mode}", mib[mode], f"{mib[mode]:.1f} MiB", *verdict)

    figures = [
        Figure("warm create: external calls", last.total(), last.summary, WARM_CALLS, warm_calls),
        Figure("cold create: external calls", first.total(), first.summary, COLD_CALLS, cold_calls),
        paired("visitor's wait: warm create / bare POST", warm["handler"], warm["post"], WAIT_MAX),
        paired("cold create: handler / floor", cold_s["handler"], cold_s["floor"], COLD_RATIO_MAX),
        peak("handler", rss_max, rss_ok),
        peak("floor"),
        timing("cold create: handler", cold_s["handler"]),
        timing("cold create: floor", cold_s["floor"]),
        paired("cold create: CPU time, handler / floor", cpu["handler"], cpu["floor"]),
    ]
    for mode, name in (("handler", "warm create"), ("floor", "warm floor"), ("post", "bare POST")):
        sides = link["served"][mode].items()  # per create, the service's seconds per request
        per_create = ", ".join(
            f"{k} {sum(map(len, s)) / len(s):g} req/{statistics.median(map(sum, s)) * 1e3:.1f} ms"
            for k, s in sides
        )
        figures.append(timing(f"{name} over the link (per create: {per_create})", warm[mode]))
    return [*figures, paired("warm create / floor over the link", warm["handler"], warm["floor"])]


def table(figures: Sequence[Figure]) -> str:
    rows = [("figure", "value", "target", "result")]
    rows += [(f.label, f.text, f.target, RESULT[f.passed]) for f in figures]
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    lines = ("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) for row in rows)
    return "\n".join(line.rstrip() for line in lines)
