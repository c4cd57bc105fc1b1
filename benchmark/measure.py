"""The measured processes (benchmark/child.py) on a Lambda-like site, and what is timed in them."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from benchmark.figures import Calls
from benchmark.proxy import DelayProxy
from scripts.key_store import daily_domain, secret_value

ROOT = Path(__file__).resolve().parents[1]
HANDLER = "create_room.handler"  # as the template's Handler, CodeUri and layer ContentUri say
CODE_DIRS = [str(ROOT / "functions" / "create_room"), str(ROOT / "functions" / "common")]
# A process's ru_maxrss starts at the peak of the process that started it (Linux keeps it across
# fork and exec): each cold child is started by this small launcher, so the peak it reports is its
# own (or the launcher's, about 11 MiB, far below a create's).
LAUNCHER = "import subprocess, sys; sys.exit(subprocess.run(sys.argv[1:]).returncode)"


RUNTIME_SDK = {"boto3", "botocore", "s3transfer", "python-dateutil", "six"}


def pins(path: Path) -> list[str]:
    """The `name==version` lines of a requirements file."""
    lines = (line.split("#")[0].strip() for line in path.read_text().splitlines())
    return [line for line in lines if "==" in line and not line.startswith("-")]


def installed(packages: list[str]) -> Path:
    """A pip --target install of exactly these pins, kept under artifacts/bench-site/<hash>."""
    key = hashlib.sha256("\n".join([*packages, sys.version]).encode()).hexdigest()[:12]
    target = ROOT / "artifacts" / "bench-site" / key
    if not (target / ".complete").exists():  # -qq: errors only, not the index config's warnings
        pip = [sys.executable, "-m", "pip", "install", "-qq", "--disable-pip-version-check"]
        pip += ["--no-deps", "--target", str(target)]
        subprocess.run([*pip, *packages], check=True, timeout=900)
        (target / ".complete").touch()
    return target


def lambda_site() -> tuple[list[Path], list[str]]:
    """A site like Lambda's: the layer's pins, then the runtime's SDK after them (as the runtime's
    own packages follow the layer's on sys.path), as the tests pin it. Children run with
    `python -S`: nothing else loads."""
    layer = pins(ROOT / "functions" / "common" / "requirements.txt")
    local = pins(ROOT / "requirements-local.txt")
    sdk = [pin for pin in local if pin.split("==")[0] in RUNTIME_SDK]
    return [installed(layer), installed(sdk)], [*layer, *sdk]


def layer_size() -> tuple[int, int, int]:
    """The common layer as `sam build` makes it (functions/common/Makefile), zipped as SAM zips
    (deflate): its zipped bytes, unpacked bytes and files."""
    with tempfile.TemporaryDirectory(prefix="bench-layer-") as build:
        make = ["make", "-s", "-C", str(ROOT / "functions" / "common"), "build-CommonLayer"]
        make += [f"ARTIFACTS_DIR={build}", f"PYTHON={sys.executable}"]
        done = subprocess.run(make, capture_output=True, text=True, timeout=900)
        if done.returncode:
            raise SystemExit(f"building the layer failed:\n{done.stderr}")
        files = [path for path in sorted(Path(build).rglob("*")) if path.is_file()]
        archive = Path(build) / "layer.zip"
        with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zipped:
            for path in files:
                zipped.write(path, path.relative_to(build))
        return archive.stat().st_size, sum(path.stat().st_size for path in files), len(files)


def relinked(env: dict[str, str], urls: dict[str, str]) -> dict[str, str]:
    """The environment with every URL under a key of `urls` moved under its value."""
    moved = dict(env)
    for old, new in urls.items():
        under = {name: value for name, value in env.items() if f"{value}/".startswith(f"{old}/")}
        moved |= {name: new + value.removeprefix(old) for name, value in under.items()}
    return moved


class Child(subprocess.Popen):
    """A warm measured process: `run(k)` times k creates in it."""

    def run(self, count: int) -> dict[str, Any]:
        print(f"run {count}", file=self.stdin, flush=True)
        if line := self.stdout.readline():
            return json.loads(line)
        raise RuntimeError(f"a measured process ended early (its error is above): {self.args}")


class Bench:
    """Starts measured processes (`python -S`, `sys_path` only) against one local stack."""

    def __init__(self, stack: Any, sys_path: list[str], cache: Path | None = None) -> None:
        self.stack, self.sys_path, self.viewers = stack, sys_path, 1
        event = json.loads((ROOT / "events" / "create_room" / "create.json").read_text())
        headers = event["headers"] | stack.cdn_headers("192.0.2.1") | {"content-length": "2"}
        headers |= {"content-type": "application/json", "sec-fetch-site": "same-origin"}
        self.event = event | {"headers": headers, "body": "{}"}  # the page's create, via the CDN
        ours = ("PYTHONPATH", "PYTHONDONTWRITEBYTECODE", "PYTHONPYCACHEPREFIX")
        self.env = {k: v for k, v in (os.environ | stack.env).items() if k not in ours}
        if cache:  # one bytecode cache, filled by the first processes, as a layer ships its .pyc
            self.env["PYTHONPYCACHEPREFIX"] = str(cache)
        # The key stored with Daily's domain, as deploy.py stores it, so no create calls GET /v1/.
        self.secret = secret_value(stack.api_key, daily_domain(stack.daily.base_url, stack.api_key))

    def command(self, mode: str, creates: int, **extra: Any) -> list[str]:
        """The child's command line; each create in it gets a viewer of its own."""
        first, self.viewers = self.viewers, self.viewers + creates
        spec = {"event": self.event, "ip_base": first, "sys_path": self.sys_path, **extra}
        child = str(Path(__file__).with_name("child.py"))
        return [sys.executable, "-S", child, mode, json.dumps(spec | {"handler": HANDLER})]

    @contextlib.contextmanager
    def warm(self, modes: Sequence[str], env: dict[str, str], **extra: Any) -> Iterator[dict]:
        pipes = {"stdin": subprocess.PIPE, "stdout": subprocess.PIPE, "text": True}
        children = {m: Child(self.command(m, 10**5, **extra), env=env, **pipes) for m in modes}
        try:
            yield children
        except BaseException:
            for child in children.values():
                child.kill()
            raise
        for child in children.values():
            child.communicate("stop\n", timeout=60)
        if any(child.returncode for child in children.values()):
            raise RuntimeError("a measured process failed (its error is above)")

    def reset(self) -> None:
        """Empty state (moto slows down as its table grows); the key secret as deploys leave it."""
        self.stack.reset()
        self.stack.set_secret(self.secret)


def count_calls(bench: Bench, mode: str) -> list[Calls]:
    """The calls of a cold create and two warm ones in one process: every AWS request it sends,
    retries included and whichever client sends it, as a proxy in front of moto forwards it
    (X-Amz-Target names the operation); Daily's from the emulator's log."""
    bench.reset()
    daily, creates = bench.stack.daily, []
    aws = DelayProxy(bench.stack.moto_url, 0)
    try:
        with bench.warm([mode], relinked(bench.env, {aws.upstream: aws.url})) as children:
            for _ in range(3):
                seen = len(daily.requests_log)
                children[mode].run(1)
                operations = [request.operation for request in aws.take()]
                requests = [(r.method, r.path) for r in daily.requests_log[seen:]]
                creates.append(Calls.of(operations, requests))
    finally:
        aws.close()
    return creates


def measure_cold(bench: Bench, runs: int) -> dict[str, list[dict[str, float]]]:
    """Fresh processes of handler and floor in turn, the order swapped each round."""
    samples: dict[str, list[dict[str, float]]] = {"handler": [], "floor": []}
    for round_number in range(runs):
        bench.reset()
        for mode in sorted(samples, reverse=round_number % 2 == 1):
            command = [sys.executable, "-S", "-c", LAUNCHER, *bench.command(mode, 1, cold=True)]
            done = subprocess.run(command, env=bench.env, stdout=subprocess.PIPE, check=True)
            samples[mode].append(json.loads(done.stdout))
    return samples


def measure_warm(
    bench: Bench, modes: list[str], creates: int, links: dict[str, DelayProxy]
) -> dict:
    """Warm processes over `links`: one untimed create each, then rounds of one create each, back
    to back, the order rotated. By mode: each create's seconds, and by link, the service's own
    seconds for each request of the create."""
    env = relinked(bench.env, {link.upstream: link.url for link in links.values()})
    seconds: dict[str, list[float]] = {mode: [] for mode in modes}
    served: dict[str, dict[str, list]] = {mode: {name: [] for name in links} for mode in modes}
    with bench.warm(modes, env) as children:
        for child in children.values():
            child.run(1)
        for turn in range(creates):
            bench.reset()
            for link in links.values():
                link.take()
            for mode in modes[turn % len(modes) :] + modes[: turn % len(modes)]:
                seconds[mode].append(children[mode].run(1)["times"][0])
                for name, link in links.items():
                    served[mode][name].append([request.seconds for request in link.take()])
    return {"seconds": seconds, "served": served}
