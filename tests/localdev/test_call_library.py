"""The dev server's copy of daily-js: found, checked against the page's SRI hash, cached."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from localdev.call_library import (
    INDEX_HTML,
    LOCAL_PATH,
    CallLibrary,
    PinnedScript,
    load,
    sri_sha384,
)

GENUINE = b"/* daily-js as published */ window.Daily = {};\n"
PINNED = PinnedScript(
    url="https://unpkg.com/@daily-co/daily-js@9.9.9/dist/daily.js",
    version="9.9.9",
    integrity=sri_sha384(GENUINE),
)


def cached(cache_dir: Path) -> Path:
    return cache_dir / "daily-js" / "9.9.9" / "daily.js"


def installed(node_modules: Path, body: bytes) -> Path:
    path = node_modules / "@daily-co" / "daily-js" / "dist" / "daily.js"
    path.parent.mkdir(parents=True)
    path.write_bytes(body)
    return node_modules


def no_npm(version: str) -> bytes:
    raise FileNotFoundError("npm is not installed")


def test_the_pin_is_read_from_the_page_itself() -> None:
    pinned = PinnedScript.from_page(INDEX_HTML.read_text())
    assert pinned.url == f"https://unpkg.com/@daily-co/daily-js@{pinned.version}/dist/daily.js"
    assert pinned.integrity.startswith("sha384-")


def test_a_tampered_cached_file_is_refused_and_left_alone(tmp_path: Path) -> None:
    cached(tmp_path).parent.mkdir(parents=True)
    cached(tmp_path).write_bytes(GENUINE + b"stealCookies();\n")
    fetched: list[str] = []
    library = load(PINNED, tmp_path, node_modules=None, fetch=lambda v: fetched.append(v) or b"")
    assert not library.available
    assert library.body is None
    assert "refused daily-js from" in library.notes[0]
    assert PINNED.integrity in library.notes[0]
    assert fetched == []  # a changed cache is reported, not silently replaced
    assert cached(tmp_path).read_bytes().endswith(b"stealCookies();\n")
    assert "unavailable offline" in library.summary()


def test_a_matching_cached_file_is_served_without_npm(tmp_path: Path) -> None:
    cached(tmp_path).parent.mkdir(parents=True)
    cached(tmp_path).write_bytes(GENUINE)
    library = load(PINNED, tmp_path, node_modules=None, fetch=no_npm)
    assert library.body == GENUINE
    assert library.source == str(cached(tmp_path))


def test_node_modules_is_copied_into_the_cache_when_it_matches(tmp_path: Path) -> None:
    node_modules = installed(tmp_path / "node_modules", GENUINE)
    library = load(PINNED, tmp_path / "cache", node_modules=node_modules, fetch=no_npm)
    assert library.body == GENUINE
    assert cached(tmp_path / "cache").read_bytes() == GENUINE


def test_a_tampered_node_modules_file_is_refused_and_not_cached(tmp_path: Path) -> None:
    node_modules = installed(tmp_path / "node_modules", b"evil();\n")
    library = load(PINNED, tmp_path / "cache", node_modules=node_modules, fetch=no_npm)
    assert not library.available
    assert "refused daily-js from" in library.notes[0]
    assert not cached(tmp_path / "cache").exists()


def test_npm_is_asked_once_then_the_cache_answers(tmp_path: Path) -> None:
    fetched: list[str] = []

    def fetch(version: str) -> bytes:
        fetched.append(version)
        return GENUINE

    first = load(PINNED, tmp_path, node_modules=None, fetch=fetch)
    second = load(PINNED, tmp_path, node_modules=None, fetch=fetch)
    assert first.body == second.body == GENUINE
    assert fetched == ["9.9.9"]
    assert "fetched from npm" in first.source


def test_a_tampered_npm_download_is_refused_and_not_cached(tmp_path: Path) -> None:
    library = load(PINNED, tmp_path, node_modules=None, fetch=lambda v: b"evil();\n")
    assert not library.available
    assert "refused daily-js from the npm registry" in library.notes[0]
    assert not cached(tmp_path).exists()


@pytest.mark.parametrize(
    "failure",
    [
        FileNotFoundError("npm is not installed"),
        subprocess.CalledProcessError(1, ["npm"], stderr="npm error code ENOTFOUND\nmore"),
        subprocess.TimeoutExpired(["npm"], 90),
    ],
)
def test_offline_with_no_copy_the_library_is_unavailable_with_the_reason(
    tmp_path: Path, failure: Exception
) -> None:
    def fetch(version: str) -> bytes:
        raise failure

    library = load(PINNED, tmp_path, node_modules=None, fetch=fetch)
    assert not library.available
    assert library.notes[0].startswith("not cached, and npm could not fetch")
    assert "more" not in library.notes[0]
    page = b'<script defer src="' + PINNED.url.encode() + b'" integrity="x">'
    assert library.page(page) == page  # the page keeps its CDN tag


def test_the_page_points_at_the_local_copy_and_keeps_its_integrity() -> None:
    library = CallLibrary(PINNED, body=GENUINE, source="test")
    page = f'<script defer src="{PINNED.url}" integrity="{PINNED.integrity}">'.encode()
    assert library.page(page) == (
        f'<script defer src="{LOCAL_PATH}" integrity="{PINNED.integrity}">'.encode()
    )
