"""The measured processes (benchmark/child.py) on a Lambda-like site, and what is timed in them."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmark.calls import Calls
from benchmark.proxy import DelayProxy
from scripts.key_store import daily_domain, secret_value

ROOT = Path(__file__).resolve().parents[1]
CHILD = Path(__file__).with_name("child.py")
HANDLER = "create_room.handler"  # as the template's Handler, CodeUri and layer ContentUri say
CODE_DIRS = [str(ROOT / "functions" / "create_room"), str(ROOT / "functions" / "common")]
PAGE_EVENT = ROOT / "events" / "create_room" / "create.json"


def pinned(path: Path, prefix: str = "") -> list[str]:
    lines = (line.split("#")[0].strip() for line in path.read_text().splitlines())
    return [line for line in lines if line.startswith(prefix) and line[:1] not in ("", "-")]


def lambda_site() -> tuple[Path, list[str]]:
    """A site like Lambda's: only the layer's requirements and boto3 (pip --target, kept under
    artifacts/bench-site/<hash>); the children run with `python -S`, so nothing else imports."""
    packages = pinned(ROOT / "functions" / "common" / "requirements.txt")
    packages += pinned(ROOT / "requirements-dev.txt", "boto3==") or ["boto3"]
    key = hashlib.sha256("\n".join([*packages, sys.version]).encode()).hexdigest()[:12]
    target = ROOT / "artifacts" / "bench-site" / key
    if not (target / ".complete").exists():
        pip = [sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
        subprocess.run([*pip, "--target", str(target), *packages], check=True, timeout=900)
        (target / ".complete").touch()
    return target, packages


def page_event(stack: Any) -> dict[str, Any]:
    """The create the page sends through CloudFront (JSON `{}`); the child adds a fresh
    Idempotency-Key and viewer address to each create."""
    event = json.loads(PAGE_EVENT.read_text())
    headers = {**event["headers"], **stack.cdn_headers("192.0.2.1")}
    headers |= {"content-type": "application/json", "content-length": "2"}
    return {**event, "headers": headers | {"sec-fetch-site": "same-origin"}, "body": "{}"}


def relinked(env: dict[str, str], urls: dict[str, str]) -> dict[str, str]:
    """The environment with every URL under a key of `urls` moved under its value."""

    def move(value: str) -> str:
        for old, new in urls.items():
            if value == old or value.startswith(old + "/"):
                return new + value.removeprefix(old)
        return value

    return {name: move(value) for name, value in env.items()}


class Child:
    """A warm measured process: `run(k)` times k creates in it."""

    def __init__(self, mode: str, command: list[str], env: dict[str, str]) -> None:
        self.mode, pipe = mode, subprocess.PIPE
        self.process = subprocess.Popen(command, env=env, stdin=pipe, stdout=pipe, text=True)
        self.stdin, self.stdout = self.process.stdin, self.process.stdout

    def run(self, count: int) -> dict[str, Any]:
        self.stdin.write(f"run {count}\n")
        self.stdin.flush()
        if line := self.stdout.readline():
            return json.loads(line)
        raise RuntimeError(f"the {self.mode} process ended early (its error is above)")

    def close(self) -> None:
        self.process.communicate("stop\n", timeout=60)
        if self.process.returncode != 0:
            raise RuntimeError(f"the {self.mode} process failed (its error is above)")


class Bench:
    """Starts measured processes (`python -S`, `sys_path` only) against one local stack."""

    def __init__(self, stack: Any, sys_path: list[str], cache: Path | None = None) -> None:
        self.stack, self.event, self.sys_path = stack, page_event(stack), sys_path
        self.env = {**os.environ, **stack.env}
        for name in ("PYTHONPATH", "PYTHONDONTWRITEBYTECODE", "PYTHONPYCACHEPREFIX"):
            self.env.pop(name, None)
        if cache:  # one bytecode cache, filled by the first processes, as a layer ships its .pyc
            self.env["PYTHONPYCACHEPREFIX"] = str(cache)
        self.viewers = 1
        # The key with Daily's domain, as a deploy stores it (contract 1): no GET /v1/ on a create.
        domain = daily_domain(stack.daily.base_url, stack.api_key)
        self.secret = secret_value(stack.api_key, domain)

    def command(self, mode: str, creates: int, **extra: Any) -> list[str]:
        """The child's command line; each create in it gets a viewer of its own."""
        first, self.viewers = self.viewers, self.viewers + creates
        spec = {"event": self.event, "ip_base": first, "sys_path": self.sys_path, **extra}
        return [sys.executable, "-S", str(CHILD), mode, json.dumps(spec | {"handler": HANDLER})]

    def cold(self, mode: str) -> dict[str, Any]:
        command = self.command(mode, 1, cold=True)
        done = subprocess.run(command, env=self.env, stdout=subprocess.PIPE, check=True)
        return json.loads(done.stdout)

    @contextlib.contextmanager
    def warm(self, modes: Sequence[str], env: dict[str, str], **extra: Any) -> Iterator[dict]:
        children = {mode: Child(mode, self.command(mode, 10**5, **extra), env) for mode in modes}
        try:
            yield children
        except BaseException:
            for child in children.values():
                child.process.kill()
            raise
        for child in children.values():
            child.close()

    def reset(self) -> None:
        """An empty state table and emulator (moto's writes slow down as the table grows), and
        the key secret as a deploy leaves it."""
        self.stack.reset()
        self.stack.set_secret(self.secret)


def count_calls(bench: Bench, mode: str) -> list[Calls]:
    """The calls of a cold create and two warm ones in one fresh process: AWS requests from
    botocore's events in the process, Daily requests from the emulator's log."""
    bench.reset()
    daily, creates = bench.stack.daily, []
    seen = len(daily.requests_log)
    with bench.warm([mode], bench.env, count=True) as children:
        for _ in range(3):
            aws = children[mode].run(1)["aws"][0]
            log = daily.requests_log
            creates.append(Calls.of(aws, [(record.method, record.path) for record in log[seen:]]))
            seen = len(log)
    return creates


def measure_cold(bench: Bench, runs: int) -> dict[str, list[dict[str, float]]]:
    """Fresh processes of handler and floor in turn, the order swapped each round."""
    samples: dict[str, list[dict[str, float]]] = {"handler": [], "floor": []}
    for round_number in range(runs):
        bench.reset()
        for mode in sorted(samples, reverse=round_number % 2 == 1):
            samples[mode].append(bench.cold(mode))
    return samples


@dataclass
class Warm:
    seconds: dict[str, list[float]]  # per create, by mode
    crossed: dict[str, dict[str, float]]  # requests per create over each link, by mode


def measure_warm(
    bench: Bench, modes: Sequence[str], creates: int, links: dict[str, DelayProxy]
) -> Warm:
    """Warm processes reaching AWS and Daily through `links`: one untimed (cold) create each,
    then rounds of one create each, back to back (the order rotated), so that the i-th creates
    of all modes share the machine's load of their moment."""
    env = relinked(bench.env, {link.upstream: link.url for link in links.values()})
    seconds: dict[str, list[float]] = {mode: [] for mode in modes}
    crossed = {mode: Counter[str]() for mode in modes}
    order = list(modes)
    with bench.warm(modes, env) as children:
        for child in children.values():
            child.run(1)
        for _ in range(creates):
            bench.reset()
            for link in links.values():
                link.take()
            for mode in order:
                seconds[mode].append(children[mode].run(1)["times"][0][0])
                for name, link in links.items():
                    crossed[mode][name] += len(link.take())
            order = order[1:] + order[:1]
    return Warm(seconds, {m: {k: n / creates for k, n in crossed[m].items()} for m in modes})
