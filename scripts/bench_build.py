"""`sam build` for `scripts/bench.py`: build into a temporary directory, measure the artifacts."""

from __future__ import annotations

import io
import os
import subprocess
import time
import zipfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
VENV_BIN = ROOT / ".venv" / "bin"
FUNCTIONS = ("CreateRoomFunction", "HealthFunction")
LAYER = "CommonLayer"
SHARED_PACKAGE = "daily_rooms"


def tree_bytes(path: Path) -> int:
    """The apparent size of every file under `path`."""
    return sum(file.stat().st_size for file in path.rglob("*") if file.is_file())


def zipped_bytes(path: Path) -> int:
    """The size of `path` as a deflated zip, as `sam deploy` uploads it."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for file in sorted(path.rglob("*")):
            if file.is_file():
                archive.write(file, file.relative_to(path))
    return len(buffer.getvalue())


def sam_build(workdir: Path) -> tuple[bool, str]:
    """Run `sam build` with .venv/bin first on PATH (python3.13 builds need python3.13)."""
    sam = VENV_BIN / "sam"
    env = {
        **os.environ,
        "PATH": f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}",
        "SAM_CLI_TELEMETRY": "0",
        "AWS_DEFAULT_REGION": os.environ.get("AWS_DEFAULT_REGION", "us-east-1"),
    }
    command = [
        str(sam) if sam.exists() else "sam",
        "build",
        "--template",
        "template.yaml",
        "--build-dir",
        str(workdir / "build"),
        "--cache-dir",
        str(workdir / "cache"),
    ]
    try:
        done = subprocess.run(
            command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=900, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        return False, f"sam build could not run: {error}"
    return done.returncode == 0, (done.stdout + done.stderr).strip()


def measure_build(workdir: Path) -> dict[str, Any]:
    """Build, then size each function's own code and the layer (dependencies + shared code)."""
    started = time.monotonic()
    ok, output = sam_build(workdir)
    result: dict[str, Any] = {"ok": ok, "seconds": round(time.monotonic() - started, 1)}
    if not ok:
        lines = [line for line in output.splitlines() if line.strip()]
        result["error"] = "\n".join(lines[-15:]) or "no output"
        return result
    build = workdir / "build"
    for name in FUNCTIONS:
        result[name] = {"bytes": tree_bytes(build / name), "zipped": zipped_bytes(build / name)}
    packages_dir = build / LAYER / "python"
    packages = {
        entry.name: tree_bytes(entry) if entry.is_dir() else entry.stat().st_size
        for entry in packages_dir.iterdir()
    }
    result[LAYER] = {
        "bytes": tree_bytes(build / LAYER),
        "zipped": zipped_bytes(build / LAYER),
        "shared_package_bytes": packages.get(SHARED_PACKAGE, 0),
        "largest": sorted(packages.items(), key=lambda item: -item[1])[:6],
        "pyc_files": sum(1 for _ in packages_dir.rglob("*.pyc")),
        "py_files": sum(1 for _ in packages_dir.rglob("*.py")),
    }
    result["paths"] = {
        "code": str(build / "CreateRoomFunction"),
        "layer": str(packages_dir),
    }
    return result
