"""daily-js for `make dev`: the very file the page pins, served from this machine.

site/index.html loads daily-js from unpkg with a Subresource Integrity hash. The dev server reads
that tag, finds the same file on this machine and serves it at LOCAL_PATH instead, so a call opens
with no internet. Where the file comes from, in order:

1. the cache, `.cache/daily-js/<version>/daily.js` (or under $LOCALDEV_CACHE_DIR);
2. tests/e2e/node_modules, when `make browser` has installed it;
3. the npm registry, once: `npm pack @daily-co/daily-js@<version>`, then kept in the cache.

Every candidate is checked against the page's hash; one that does not match is refused (and
never cached or served). With none, the page keeps its CDN tag and says the call library is
unavailable when it cannot load.
"""

from __future__ import annotations

import base64
import hashlib
import os
import re
import shutil
import subprocess
import tarfile
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
INDEX_HTML = ROOT / "site" / "index.html"
CACHE_DIR = ROOT / ".cache"
NODE_MODULES = ROOT / "tests" / "e2e" / "node_modules"
PACKAGE = "@daily-co/daily-js"
LOCAL_PATH = "/__dev__/daily.js"
NPM_TIMEOUT_SECONDS = 90

_SCRIPT_TAG = re.compile(
    r'<script defer src="(?P<url>https://unpkg\.com/@daily-co/daily-js@(?P<version>[0-9][^/"]*)'
    r'/dist/daily\.js)" integrity="(?P<integrity>sha384-[A-Za-z0-9+/=]+)"'
)


class IntegrityError(ValueError):
    """A daily-js file whose hash is not the page's."""


@dataclass(frozen=True)
class PinnedScript:
    """The daily-js tag of index.html: its CDN URL, version and SRI value."""

    url: str
    version: str
    integrity: str

    @classmethod
    def from_page(cls, html: str) -> PinnedScript:
        found = _SCRIPT_TAG.search(html)
        if found is None:
            raise LookupError("index.html has no pinned daily-js <script> tag with integrity")
        return cls(found["url"], found["version"], found["integrity"])


def sri_sha384(body: bytes) -> str:
    """The Subresource Integrity value of `body`."""
    return "sha384-" + base64.b64encode(hashlib.sha384(body).digest()).decode()


def check(body: bytes, pinned: PinnedScript, source: str) -> bytes:
    """`body` if it is the pinned file; else IntegrityError naming where it came from."""
    actual = sri_sha384(body)
    if actual != pinned.integrity:
        raise IntegrityError(
            f"refused daily-js from {source}: its hash {actual} is not the page's "
            f"{pinned.integrity} (daily-js {pinned.version}); delete the file and run make dev "
            "again"
        )
    return body


@dataclass
class CallLibrary:
    """The verified daily-js bytes (None when unavailable) and what was done to get them."""

    pinned: PinnedScript
    body: bytes | None = None
    source: str = ""
    notes: list[str] = field(default_factory=list)

    @property
    def available(self) -> bool:
        return self.body is not None

    def page(self, html: bytes) -> bytes:
        """index.html with the CDN URL pointed at the local copy (its integrity kept)."""
        if not self.available:
            return html
        return html.replace(f'src="{self.pinned.url}"'.encode(), f'src="{LOCAL_PATH}"'.encode(), 1)

    def summary(self) -> str:
        """One line for the dev server's banner."""
        if self.available:
            return f"Call library: daily-js {self.pinned.version} served locally ({self.source})."
        reasons = "; ".join(self.notes) or "no copy found"
        return (
            f"Call library: daily-js {self.pinned.version} is unavailable offline ({reasons}). "
            "The page cannot open calls; run make dev once with the npm registry reachable."
        )


def npm_pack(version: str) -> bytes:
    """dist/daily.js of the package as the npm registry publishes it (OSError, CalledProcessError
    or TimeoutExpired when npm is missing or the registry cannot be reached)."""
    npm = shutil.which("npm")
    if npm is None:
        raise FileNotFoundError("npm is not installed")
    with tempfile.TemporaryDirectory() as scratch:
        result = subprocess.run(  # noqa: S603 (fixed arguments; the version is index.html's)
            [npm, "pack", f"{PACKAGE}@{version}", "--pack-destination", scratch, "--silent"],
            cwd=scratch,
            capture_output=True,
            text=True,
            timeout=NPM_TIMEOUT_SECONDS,
            check=True,
        )
        tarball = Path(scratch) / result.stdout.strip().splitlines()[-1]
        with tarfile.open(tarball) as archive:
            member = archive.extractfile("package/dist/daily.js")
            if member is None:
                raise OSError(f"{tarball.name} has no package/dist/daily.js")
            return member.read()


def load(
    pinned: PinnedScript,
    cache_dir: Path,
    node_modules: Path | None = NODE_MODULES,
    fetch: Callable[[str], bytes] = npm_pack,
) -> CallLibrary:
    """The pinned daily-js from the cache, else node_modules, else npm (then cached), checked.

    A cached file that does not match is refused, not replaced: someone changed it."""
    library = CallLibrary(pinned)
    cached = cache_dir / "daily-js" / pinned.version / "daily.js"
    try:
        if cached.is_file():
            library.body = check(cached.read_bytes(), pinned, str(cached))
            library.source = str(cached)
            return library
        installed = node_modules / PACKAGE / "dist" / "daily.js" if node_modules else None
        if installed is not None and installed.is_file():
            body = check(installed.read_bytes(), pinned, str(installed))
            return _cache(library, body, cached, "copied from tests/e2e/node_modules")
        try:
            body = fetch(pinned.version)
        except (OSError, subprocess.SubprocessError) as failed:
            library.notes.append(
                f"not cached, and npm could not fetch {PACKAGE}@{pinned.version}: "
                f"{_first_line(failed)}"
            )
            return library
        return _cache(library, check(body, pinned, "the npm registry"), cached, "fetched from npm")
    except IntegrityError as refused:
        library.notes.append(str(refused))
        return library


def _cache(library: CallLibrary, body: bytes, cached: Path, source: str) -> CallLibrary:
    """Keep the checked `body` in the cache (written whole, then renamed) and serve it."""
    library.body = body
    try:
        cached.parent.mkdir(parents=True, exist_ok=True)
        partial = cached.with_suffix(".partial")
        partial.write_bytes(body)
        partial.replace(cached)
        library.source = f"{source} into {cached}"
    except OSError as failed:
        library.source = f"{source}, not cached: {failed.strerror}"
    return library


def _first_line(error: BaseException) -> str:
    stderr = getattr(error, "stderr", None)
    text = (stderr or str(error) or type(error).__name__).strip()
    return text.splitlines()[0] if text else type(error).__name__


def load_for_page(index_html: Path = INDEX_HTML) -> CallLibrary:
    """The library `make dev` serves: index.html's pin, the default cache and sources."""
    pinned = PinnedScript.from_page(index_html.read_text())
    cache_dir = Path(os.environ.get("LOCALDEV_CACHE_DIR") or CACHE_DIR)
    return load(pinned, cache_dir)
