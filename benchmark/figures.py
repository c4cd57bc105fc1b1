"""The figures of one run, judged against the issue's targets, and their table."""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass

from benchmark.calls import COLD_MAX, WARM_TARGET, Calls, cold_ok, warm_ok
from benchmark.measure import Warm

COLD_RATIO_MAX, WAIT_MAX, RSS_MAX_MIB = 1.15, 1.15, 55.0


@dataclass
class Figure:
    label: str
    value: float
    text: str
    target: str = ""
    passed: bool | None = None  # None: context, no target

    @property
    def result(self) -> str:
        return {True: "PASS", False: "MISS", None: ""}[self.passed]


def timing(label: str, seconds: Sequence[float]) -> Figure:
    value, low, high = (round(f(seconds) * 1000, 1) for f in (statistics.median, min, max))
    return Figure(label, value, f"{value:.1f} ms ({low:.0f}-{high:.0f}, n={len(seconds)})")


def paired(label: str, top: Sequence[float], bottom: Sequence[float], limit: float = 0) -> Figure:
    """The median of top[i] / bottom[i] (pairs measured back to back share the machine's load),
    judged as printed (two decimals) against `limit` when there is one."""
    value = statistics.median(a / b for a, b in zip(top, bottom, strict=True))
    verdict = (f"<= {limit:g}x", round(value, 2) <= limit) if limit else ("", None)
    return Figure(label, round(value, 3), f"{value:.2f}x", *verdict)


def figures_of(calls: Sequence[Calls], cold: dict[str, list[dict]], link: Warm) -> list[Figure]:
    """`calls`: the handler's cold create and two warm ones (both warm ones must pass)."""
    cold_s, cpu, rss = (
        {m: [run[k] for run in runs] for m, runs in cold.items()}
        for k in ("seconds", "cpu", "rss_kib")
    )
    handler_rss, floor_rss = (
        round(statistics.median(rss[m]) / 1024, 1) for m in ("handler", "floor")
    )
    warm, cold_calls, warm_calls = link.seconds, calls[0], calls[-1]
    figures = [
        Figure(
            "warm create: external calls",
            warm_calls.total,
            warm_calls.summary,
            WARM_TARGET,
            all(map(warm_ok, calls[1:])),
        ),
        Figure(
            "cold create: external calls",
            cold_calls.total,
            cold_calls.summary,
            f"<= {COLD_MAX}",
            cold_ok(cold_calls),
        ),
        paired("visitor's wait: warm create / bare POST", warm["handler"], warm["post"], WAIT_MAX),
        paired("cold create: handler / floor", cold_s["handler"], cold_s["floor"], COLD_RATIO_MAX),
        Figure(
            "cold create: peak RSS, handler",
            handler_rss,
            f"{handler_rss:.1f} MiB",
            f"<= {RSS_MAX_MIB:g} MiB",
            handler_rss <= RSS_MAX_MIB,
        ),
        Figure("cold create: peak RSS, floor", floor_rss, f"{floor_rss:.1f} MiB"),
        timing("cold create: handler", cold_s["handler"]),
        timing("cold create: floor", cold_s["floor"]),
        paired("cold create: CPU time, handler / floor", cpu["handler"], cpu["floor"]),
    ]
    for mode, name in (("handler", "warm create"), ("floor", "warm floor"), ("post", "bare POST")):
        crossed = ", ".join(f"{n:g} {side}" for side, n in link.crossed[mode].items())
        figures.append(timing(f"{name} over the link ({crossed} per create)", warm[mode]))
    return [*figures, paired("warm create / floor over the link", warm["handler"], warm["floor"])]


def table(figures: Sequence[Figure]) -> str:
    rows = [("figure", "value", "target", "result")]
    rows += [(f.label, f.text, f.target, f.result) for f in figures]
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    lines = ("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) for row in rows)
    return "\n".join(line.rstrip() for line in lines)
