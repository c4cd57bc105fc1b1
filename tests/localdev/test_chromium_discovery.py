"""Browser discovery on the machines the project runs on, each as a fake filesystem layout.

Browsers, apt, sudo and Playwright's installer are small shell scripts in a temporary root; the
discovery runs them for real. Every script that installs something writes its command to a log.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from localdev.chromium import ENV_VAR, Found, Host, NotFound, apt_refusal, ensure, find

CHROME_VERSION = 'echo "Chromium 131.0.6778.85"'
SNAP_SHIM = "echo \"Command '/usr/bin/chromium-browser' requires the chromium snap\" >&2; exit 1"
UBUNTU_POLICY = "chromium:\n  Installed: (none)\n  Candidate: 2:1snap1-0ubuntu2\n"
DEBIAN_RELEASE = 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nID=debian\n'
UBUNTU_RELEASE = 'NAME="Ubuntu"\nID=ubuntu\nID_LIKE=debian\nVERSION_ID="24.04"\n'


def script(path: Path, body: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f'#!/bin/sh\nPATH="$PATH:/usr/bin:/bin"  # mkdir, chmod, env\n{body}\n')
    path.chmod(0o755)
    return path


class Machine:
    """A fake machine under `root`: /usr/bin on PATH, a home, Playwright's browser folder."""

    def __init__(self, root: Path, *, release: str = "", is_root: bool = False) -> None:
        self.root, self.bin, self.log = root, root / "usr" / "bin", root / "installs.log"
        self.bin.mkdir(parents=True)
        if release:
            (root / "etc").mkdir()
            (root / "etc" / "os-release").write_text(release)
        self.env = {
            "PATH": str(self.bin),
            "HOME": str(root / "home"),
            "PLAYWRIGHT_BROWSERS_PATH": str(root / "ms-playwright"),
        }
        self.is_root = is_root
        self.playwright_download(works=False)

    def host(self, **env: str) -> Host:
        python = str(self.root / "python")
        return Host(env=self.env | env, root=self.root, python=python, is_root=self.is_root)

    def browser(self, relative: str, body: str = CHROME_VERSION) -> Path:
        return script(self.root / relative, body)

    def apt(self, policy: str = "") -> None:
        """apt-get that logs and installs Debian's chromium; apt-cache that prints `policy`."""
        chromium = self.bin / "chromium"
        install = f"script() {{ printf '#!/bin/sh\\n{CHROME_VERSION}\\n' > {chromium}; }}"
        script(
            self.bin / "apt-get",
            f'{install}\necho "apt-get $*" >> {self.log}\n'
            f'[ "$1" = install ] && script && chmod 755 {chromium}\nexit 0',
        )
        script(self.bin / "apt-cache", f"printf '{policy}'")

    def sudo(self) -> None:
        script(self.bin / "sudo", f'echo "sudo $1" >> {self.log}\nexec "$@"')

    def playwright_download(self, *, works: bool) -> Path:
        """This Python, whose `-m playwright install` logs and, if it `works`, downloads."""
        reported = subprocess.run(
            [sys.executable, "-c", "from localdev.chromium import PLAYWRIGHT_PATH as p; exec(p)"],
            env=self.env,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        download = f"mkdir -p \"$(dirname {reported})\"; printf '#!/bin/sh\\n{CHROME_VERSION}\\n'"
        download += f" > {reported}; chmod 755 {reported}" if works else " >/dev/null; exit 1"
        script(
            self.root / "python",
            f'if [ "$1 $2 $3" = "-m playwright install" ]; then\n'
            f'  echo "playwright $*" >> {self.log}\n  {download}\n  exit 0\nfi\n'
            f'exec {sys.executable} "$@"',
        )
        return Path(reported)

    def installs(self) -> list[str]:
        return self.log.read_text().splitlines() if self.log.exists() else []


def test_debian_finds_its_chromium_on_path(tmp_path: Path) -> None:
    debian = Machine(tmp_path, release=DEBIAN_RELEASE, is_root=True)
    chromium = debian.browser("usr/bin/chromium")
    debian.apt()

    assert ensure(debian.host()) == Found(chromium, "chromium on PATH")
    assert debian.installs() == []


def test_debian_without_a_browser_installs_debians_package_with_sudo(tmp_path: Path) -> None:
    """Offline, Playwright's download fails; then apt installs chromium, through sudo."""
    debian = Machine(tmp_path, release=DEBIAN_RELEASE)
    debian.apt()
    debian.sudo()

    found = ensure(debian.host())

    assert found == Found(debian.bin / "chromium", "chromium on PATH")
    assert debian.installs() == [
        "playwright -m playwright install --no-shell chromium",
        "sudo env",
        "apt-get update -qq",
        "sudo env",
        "apt-get install -y -qq chromium",
    ]


def test_without_root_or_sudo_apt_is_not_tried(tmp_path: Path) -> None:
    debian = Machine(tmp_path, release=DEBIAN_RELEASE)
    debian.apt()

    with pytest.raises(NotFound, match="apt: needs root or sudo"):
        ensure(debian.host())
    assert debian.installs() == ["playwright -m playwright install --no-shell chromium"]


@pytest.mark.parametrize(
    "bundle",
    [
        "Applications/Google Chrome.app/Contents/MacOS/Google Chrome",
        "Applications/Chromium.app/Contents/MacOS/Chromium",
        "home/Applications/Google Chrome.app/Contents/MacOS/Google Chrome",
    ],
)
def test_macos_finds_the_app_bundle(tmp_path: Path, bundle: str) -> None:
    mac = Machine(tmp_path)
    chrome = mac.browser(bundle)

    assert ensure(mac.host()) == Found(chrome, "macOS app")
    assert mac.installs() == []


def test_macos_without_a_browser_downloads_playwrights(tmp_path: Path) -> None:
    """No app, no apt: Playwright's own Chromium, found through Playwright's API after."""
    mac = Machine(tmp_path)
    download = mac.playwright_download(works=True)

    assert ensure(mac.host()) == Found(download, "Playwright's download")
    assert mac.installs() == ["playwright -m playwright install --no-shell chromium"]
    assert find(mac.host()) == Found(download, "Playwright's download")


def ubuntu_latest(root: Path) -> Machine:
    """GitHub's runner: not root, passwordless sudo, apt's chromium is the snap shim."""
    runner = Machine(root, release=UBUNTU_RELEASE)
    runner.apt(UBUNTU_POLICY)
    runner.sudo()
    return runner


def test_ubuntu_latest_uses_the_images_chromium_link(tmp_path: Path) -> None:
    runner = ubuntu_latest(tmp_path)
    chrome = runner.browser("usr/local/share/chromium/chrome-linux/chrome")
    (runner.bin / "chromium").symlink_to(chrome)
    runner.browser("usr/bin/google-chrome")

    assert ensure(runner.host()) == Found(runner.bin / "chromium", "chromium on PATH")
    assert runner.installs() == []


def test_ubuntu_never_installs_the_snap_shim(tmp_path: Path) -> None:
    runner = ubuntu_latest(tmp_path)

    with pytest.raises(NotFound, match=r"apt's chromium 2:1snap1-0ubuntu2 only installs the snap"):
        ensure(runner.host())
    assert not [line for line in runner.installs() if line.startswith("apt-get")]


def test_a_shim_on_path_that_does_not_run_is_passed_over(tmp_path: Path) -> None:
    ubuntu = ubuntu_latest(tmp_path)
    ubuntu.browser("usr/bin/chromium-browser", SNAP_SHIM)
    chrome = ubuntu.browser("usr/bin/google-chrome")

    assert find(ubuntu.host()) == Found(chrome, "google-chrome on PATH")


@pytest.mark.parametrize(
    ("release", "policy", "refusal"),
    [
        (DEBIAN_RELEASE, "", None),
        (UBUNTU_RELEASE, UBUNTU_POLICY, "apt's chromium 2:1snap1-0ubuntu2 only installs the snap"),
        (UBUNTU_RELEASE, "chromium:\n  Candidate: 131.0.6778.85-0ubuntu0.1\n", None),
        (UBUNTU_RELEASE, "chromium:\n  Candidate: (none)\n", "apt knows no chromium package"),
        ('ID=fedora\nID_LIKE="rhel centos"\n', "", "not Debian or Ubuntu (ID=fedora)"),
    ],
)
def test_apt_is_used_only_for_a_real_chromium_package(
    tmp_path: Path, release: str, policy: str, refusal: str | None
) -> None:
    machine = Machine(tmp_path, release=release, is_root=True)
    machine.apt(policy)

    assert apt_refusal(machine.host()) == refusal


def test_the_env_var_wins_over_path(tmp_path: Path) -> None:
    debian = Machine(tmp_path, release=DEBIAN_RELEASE, is_root=True)
    debian.browser("usr/bin/chromium")
    chosen = debian.browser("opt/chrome-for-testing/chrome")

    assert find(debian.host(**{ENV_VAR: str(chosen)})) == Found(chosen, f"${ENV_VAR}")


def test_a_broken_env_var_fails_without_falling_back_or_installing(tmp_path: Path) -> None:
    debian = Machine(tmp_path, release=DEBIAN_RELEASE, is_root=True)
    debian.browser("usr/bin/chromium")
    debian.apt()
    missing = tmp_path / "no" / "chrome"

    with pytest.raises(NotFound) as raised:
        ensure(debian.host(**{ENV_VAR: str(missing)}))
    assert raised.value.tried == [
        f"{ENV_VAR}={missing}: does not run (`{missing} --version` failed)"
    ]
    assert debian.installs() == []


def test_nothing_found_says_what_was_tried_and_how_to_fix_it(tmp_path: Path) -> None:
    bare = Machine(tmp_path)

    with pytest.raises(NotFound) as raised:
        ensure(bare.host())

    message = str(raised.value)
    for looked_at in ("CHROMIUM: not set", "google-chrome-stable", "Chromium.app", "Playwright:"):
        assert looked_at in message
    assert "apt: no apt-get here" in message
    assert (
        'export CHROMIUM="/Applications/Google Chrome.app/Contents/MacOS/Google Chrome"' in message
    )
    assert "python -m playwright install --no-shell chromium" in message


def test_the_command_fails_loudly(tmp_path: Path) -> None:
    """`make browser` exits non-zero with the explanation, never silently."""
    command = [sys.executable, "-m", "localdev.chromium", "--ensure"]
    env = {"PATH": "", ENV_VAR: str(tmp_path / "absent")}
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)

    assert done.returncode == 1
    assert "No Chromium or Chrome found" in done.stderr
    assert done.stdout == ""
