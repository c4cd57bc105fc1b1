"""The page for `scripts/bench.py`: load site/ in headless Chromium and count what it fetches."""

from __future__ import annotations

import contextlib
import functools
import gzip
import io
import threading
import warnings
from collections.abc import Iterator, Sequence
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from localdev import chromium  # the repo root is on sys.path (bench.py puts it there)

ROOT = Path(__file__).resolve().parents[1]
SITE = ROOT / "site"
DAILY_JS = ROOT / "tests" / "e2e" / "node_modules" / "@daily-co" / "daily-js" / "dist" / "daily.js"


class _QuietFiles(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@contextlib.contextmanager
def site_server(stack: Any) -> Iterator[tuple[str, str]]:
    """The project's dev server (the page's real headers and API); plain files if it fails."""
    try:
        from localdev.server import serve

        server = serve("127.0.0.1", 0, stack, quiet=True)
        kind = "localdev/server.py (production security headers, in-process API)"
    except Exception as error:  # any failure of the dev server: fall back to plain files
        handler = functools.partial(_QuietFiles, directory=str(SITE))
        server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        kind = f"plain static server of site/ (localdev/server.py failed: {error})"
    try:
        host, port = server.server_address[:2]
        yield f"http://{host}:{port}/", kind
    finally:
        server.shutdown()
        server.server_close()


def describe(request: Any, page_url: str) -> dict[str, Any]:
    """One finished request: where it went and what it cost on the wire."""
    response = request.response()
    body = response.body() if response else b""
    try:
        sizes = request.sizes()
        headers = max(0, sizes["responseHeadersSize"])
        body_size = max(0, sizes["responseBodySize"])
    except Exception:  # a fulfilled route has no network sizes
        headers, body_size = 0, len(body)
    return {
        "url": request.url,
        "type": request.resource_type,
        "status": response.status if response else None,
        "first_party": urlsplit(request.url).netloc == urlsplit(page_url).netloc,
        "transfer_bytes": headers + body_size,
        "header_bytes": headers,
        "body_bytes": len(body),
        "gzip_bytes": len(gzip.compress(body, 6)),
    }


def summarize(requests: Sequence[dict[str, Any]]) -> dict[str, int]:
    return {
        "count": len(requests),
        "transfer_bytes": sum(r["transfer_bytes"] for r in requests),
        "header_bytes": sum(r["header_bytes"] for r in requests),
        "body_bytes": sum(r["body_bytes"] for r in requests),
        "gzip_bytes": sum(r["gzip_bytes"] for r in requests),
    }


def measure_page(stack: Any) -> dict[str, Any]:
    """Load the page once, the handlers' log and metric lines (in this process) kept quiet."""
    with (
        contextlib.redirect_stdout(io.StringIO()),
        warnings.catch_warnings(),
    ):
        warnings.simplefilter("ignore")
        return load_page(stack)


def load_page(stack: Any) -> dict[str, Any]:
    """Load the page; unpkg.com is answered from the npm copy of daily-js (or aborted)."""
    from playwright.sync_api import Route, sync_playwright

    daily_js = DAILY_JS.read_bytes() if DAILY_JS.exists() else None

    def third_party_script(route: Route) -> None:
        if daily_js is None:
            route.abort()
            return
        headers = {
            "content-type": "application/javascript; charset=utf-8",
            "access-control-allow-origin": "*",  # the page loads it with crossorigin + SRI
        }
        route.fulfill(status=200, body=daily_js, headers=headers)

    finished: list[Any] = []
    failed: list[str] = []
    with site_server(stack) as (url, server_kind), sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=chromium.EXECUTABLE, args=chromium.ARGS
        )
        try:
            page = browser.new_page()
            page.route("https://unpkg.com/**", third_party_script)
            page.on("requestfinished", lambda request: finished.append(request))
            page.on("requestfailed", lambda request: failed.append(request.url))
            page.goto(url, wait_until="networkidle")
            daily_loaded = page.evaluate("typeof window.DailyIframe !== 'undefined'")
            requests = [describe(request, url) for request in finished]
        finally:
            browser.close()
    return {
        "url": url,
        "server": server_kind,
        "daily_js": "served from the npm package" if daily_js else "not installed: aborted",
        "daily_js_loaded": daily_loaded,
        "first_party": summarize([r for r in requests if r["first_party"]]),
        "third_party": summarize([r for r in requests if not r["first_party"]]),
        "failed": failed,
        "requests": requests,
    }
