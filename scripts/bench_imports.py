"""`python -X importtime` of the create handler for `scripts/bench.py`: where import time goes."""

from __future__ import annotations

import statistics
import subprocess
import sys
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FIRST_PARTY = ("create_room", "daily_rooms")


@dataclass
class ImportEntry:
    module: str
    self_us: int
    cumulative_us: int
    depth: int
    importer: str = ""  # the module whose import statement loaded this one
    children: list[ImportEntry] = field(default_factory=list)


def parse(stderr: str) -> list[ImportEntry]:
    """The importtime lines, each linked to its importer (children are printed first, one
    level deeper)."""
    entries: list[ImportEntry] = []
    pending: list[ImportEntry] = []
    for line in stderr.splitlines():
        if not line.startswith("import time:") or "imported package" in line:
            continue
        own, cumulative, name = line.removeprefix("import time:").split("|")
        entry = ImportEntry(name.strip(), int(own), int(cumulative), len(name) - len(name.lstrip()))
        while pending and pending[-1].depth > entry.depth:
            child = pending.pop()
            child.importer = entry.module
            entry.children.append(child)
        pending.append(entry)
        entries.append(entry)
    return entries


def first_party(module: str) -> bool:
    return module.split(".")[0] in FIRST_PARTY


def measure(
    sys_path: Sequence[str], flags: Sequence[str], env: dict[str, str], runs: int = 3
) -> dict:
    """Medians over `runs` processes (after one that only warms the bytecode caches)."""
    code = f"import sys; sys.path[:0] = {list(sys_path)!r}; import create_room"
    samples: list[list[ImportEntry]] = []
    for _ in range(runs + 1):
        done = subprocess.run(
            [sys.executable, *flags, "-X", "importtime", "-c", code],
            env=env,
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        )
        samples.append(parse(done.stderr))
    samples = samples[1:]

    def medians(per_run: list[Counter[str]]) -> list[tuple[str, float]]:
        names = set().union(*per_run)
        values = {n: statistics.median([run.get(n, 0) for run in per_run]) / 1000 for n in names}
        return sorted(values.items(), key=lambda item: -item[1])

    packages = [Counter[str]() for _ in samples]
    edges = [Counter[str]() for _ in samples]
    totals = []
    for run, entries in enumerate(samples):
        for entry in entries:
            packages[run][entry.module.split(".")[0]] += entry.self_us
            if first_party(entry.importer) and not first_party(entry.module):
                edges[run][f"{entry.module}  (imported by {entry.importer})"] += entry.cumulative_us
            if entry.module == "create_room":
                totals.append(entry.cumulative_us)
    return {
        "total_ms": round(statistics.median(totals) / 1000, 1) if totals else None,
        "modules": statistics.median([len(entries) for entries in samples]),
        "packages_self_ms": medians(packages)[:8],
        "first_party_imports_ms": medians(edges)[:8],
    }


def text(result: dict, site: str) -> str:
    lines = [
        f"python -X importtime, `import create_room` [{site}]: {result['total_ms']:.0f} ms, "
        f"{result['modules']:.0f} modules (median of 3 processes)",
        "  top 8 packages by own time (the self time of all their modules; create_room's own "
        "includes running its module body, e.g. creating the DynamoDB client):",
        *(f"    {ms:7.1f} ms  {name}" for name, ms in result["packages_self_ms"]),
        "  top 8 imports made by first-party code (cumulative: what each import statement "
        "in create_room / daily_rooms pulled in):",
        *(f"    {ms:7.1f} ms  {name}" for name, ms in result["first_party_imports_ms"]),
    ]
    return "\n".join(lines)
