"""The Chromium or Chrome the browser tests launch, headless and offline: found, or installed.

`find()` looks, in order: $CHROMIUM (then nothing else), Chromium/Chrome on PATH, the macOS app
bundles, Playwright's own download. `ensure()` (`python -m localdev.chromium --ensure`, run by
`make browser`) installs one when none is found: Playwright's download, then Debian's package.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

ENV_VAR = "CHROMIUM"
ON_PATH = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome")
APP_BUNDLES = (
    "Google Chrome.app/Contents/MacOS/Google Chrome",
    "Chromium.app/Contents/MacOS/Chromium",
)
PLAYWRIGHT_INSTALL = ("-m", "playwright", "install", "--no-shell", "chromium")
PLAYWRIGHT_PATH = """
from playwright.sync_api import sync_playwright
with sync_playwright() as playwright:
    print(playwright.chromium.executable_path)
"""
FIX = f"""Install Google Chrome or Chromium, or point {ENV_VAR} at one, for example
  export {ENV_VAR}="/Applications/Google Chrome.app/Contents/MacOS/Google Chrome"
or, where downloads are possible, take Playwright's own:
  .venv/bin/python {" ".join(PLAYWRIGHT_INSTALL)}"""

# Without the background-networking flags Chromium calls Google's hosts, which the tests refuse;
# as root it also needs --no-sandbox.
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@dataclass(frozen=True)
class Host:
    """What discovery reads of the machine: its environment, its filesystem root, its Python."""

    env: Mapping[str, str]
    root: Path = Path("/")
    python: str = sys.executable
    is_root: bool = False

    @classmethod
    def this_machine(cls) -> Host:
        return cls(env=dict(os.environ), is_root=os.geteuid() == 0)

    @property
    def home(self) -> Path | None:
        return Path(self.env["HOME"]) if self.env.get("HOME") else None

    def which(self, name: str) -> str | None:
        return shutil.which(name, path=self.env.get("PATH", ""))

    def run(self, command: list[str], *, capture: bool = True, timeout: float = 60) -> str | None:
        """The command's output, or None when it cannot start, fails or outlasts `timeout`."""
        program = command[0] if "/" in command[0] else self.which(command[0]) or command[0]
        try:
            done = subprocess.run(  # noqa: S603 - commands built here, never from input
                [program, *command[1:]],
                env=dict(self.env),
                capture_output=capture,
                text=True,
                timeout=timeout,
                check=False,
            )
        except (OSError, subprocess.TimeoutExpired):
            return None
        return (done.stdout or "") if done.returncode == 0 else None


@dataclass(frozen=True)
class Found:
    path: Path
    source: str


class NotFound(RuntimeError):
    """No browser that runs: the message says what was tried and how to fix it."""

    def __init__(self, tried: list[str]) -> None:
        self.tried = tried
        lines = "\n".join(f"  - {line}" for line in tried)
        super().__init__(f"No Chromium or Chrome found. Tried:\n{lines}\n{FIX}")


def _candidates(host: Host, tried: list[str]) -> Iterator[Found]:
    """Every browser binary there is, in order of preference; misses go to `tried`."""
    names = [name for name in ON_PATH if host.which(name)]
    yield from (Found(Path(host.which(name) or name), f"{name} on PATH") for name in names)
    if not names:
        tried.append(f"PATH: none of {', '.join(ON_PATH)}")
    folders = [host.root / "Applications"] + ([host.home / "Applications"] if host.home else [])
    bundles = [folder / bundle for folder in folders for bundle in APP_BUNDLES]
    yield from (Found(path, "macOS app") for path in bundles if path.is_file())
    if not any(path.is_file() for path in bundles):
        tried.append(f"macOS apps: none of {', '.join(map(str, bundles))}")
    reported = host.run([host.python, "-c", PLAYWRIGHT_PATH])
    if reported is None:
        tried.append(f"Playwright: not importable by {host.python}")
        return
    downloaded = Path(reported.strip())
    if downloaded.is_file():
        yield Found(downloaded, "Playwright's download")
    else:
        tried.append(f"Playwright: nothing downloaded at {downloaded}")


def _runs(host: Host, found: Found) -> bool:
    return bool(host.run([str(found.path), "--version"], timeout=30))


def find(host: Host | None = None) -> Found:
    """The first browser that runs, or NotFound saying what was tried."""
    host = host or Host.this_machine()
    override = host.env.get(ENV_VAR)
    if override:
        found = Found(Path(override), f"${ENV_VAR}")
        if _runs(host, found):
            return found
        raise NotFound([f"{ENV_VAR}={override}: does not run (`{override} --version` failed)"])
    tried = [f"{ENV_VAR}: not set"]
    for found in _candidates(host, tried):
        if _runs(host, found):
            return found
        tried.append(f"{found.source}: {found.path} does not run (`--version` failed)")
    raise NotFound(tried)


def _os_release(host: Host) -> dict[str, str]:
    path = host.root / "etc" / "os-release"
    lines = path.read_text().splitlines() if path.is_file() else []
    pairs = (line.split("=", 1) for line in lines if "=" in line)
    return {key: value.strip().strip('"') for key, value in pairs}


def apt_refusal(host: Host) -> str | None:
    """Why apt's chromium would not do here, or None: Debian's package is a real browser;
    Ubuntu's is a shim that installs the snap, which fails without the Snap Store."""
    release = _os_release(host)
    name, like = release.get("ID", ""), release.get("ID_LIKE", "").split()
    if not (host.which("apt-get") and host.which("apt-cache")):
        return "no apt-get here"
    if name == "debian":
        return None
    if "debian" not in like and "ubuntu" not in like:
        return f"not Debian or Ubuntu (ID={name or 'unknown'})"
    policy = host.run(["apt-cache", "policy", "chromium"]) or ""
    versions = [
        line.split(":", 1)[1].strip() for line in policy.splitlines() if "Candidate:" in line
    ]
    if not versions or versions[0] == "(none)":
        return "apt knows no chromium package"
    if "snap" in versions[0]:
        return f"apt's chromium {versions[0]} only installs the snap"
    return None


def _install_with_apt(host: Host, tried: list[str]) -> bool:
    refusal = apt_refusal(host)
    sudo = [] if host.is_root else ["sudo"] if host.which("sudo") else None
    if refusal or sudo is None:
        tried.append(f"apt: {refusal or 'needs root or sudo'}")
        return False
    print("installing chromium with apt-get", file=sys.stderr)
    apt = [*sudo, "env", "DEBIAN_FRONTEND=noninteractive", "apt-get"]
    for step in (["update", "-qq"], ["install", "-y", "-qq", "chromium"]):
        if host.run([*apt, *step], capture=False, timeout=900) is None:
            tried.append(f"apt: `{' '.join(apt + step)}` failed")
            return False
    return True


def _install_with_playwright(host: Host, tried: list[str]) -> bool:
    command = [host.python, *PLAYWRIGHT_INSTALL]
    print(f"downloading Playwright's Chromium: {' '.join(command)}", file=sys.stderr)
    if host.run(command, capture=False, timeout=900) is None:
        tried.append(f"Playwright: `{' '.join(command)}` failed (no download possible?)")
        return False
    return True


def ensure(host: Host | None = None) -> Found:
    """The browser `find()` finds, after installing one if there was none."""
    host = host or Host.this_machine()
    try:
        return find(host)
    except NotFound as missing:
        if host.env.get(ENV_VAR):
            raise
        tried = missing.tried
    for install in (_install_with_playwright, _install_with_apt):
        if install(host, tried):
            try:
                return find(host)
            except NotFound as still:
                tried.append(f"installed, yet still none: {still.tried[-1]}")
    raise NotFound(tried)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m localdev.chromium", description=__doc__)
    parser.add_argument("--ensure", action="store_true", help="install a browser if none is found")
    options = parser.parse_args(argv)
    try:
        found = ensure() if options.ensure else find()
    except NotFound as missing:
        print(missing, file=sys.stderr)
        return 1
    print(f"browser: {found.path} ({found.source})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
