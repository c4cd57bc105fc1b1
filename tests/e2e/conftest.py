"""Real headless Chromium against the dev server, fully offline.

One local stack and one dev server (the very code `make dev` runs) serve the whole session.
The page's CDN script is answered from tests/e2e/node_modules (so its SRI hash must match the
npm file), Daily room URLs get a Prebuilt stand-in page, and every other outside request fails.
"""

from __future__ import annotations

import base64
import hashlib
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Page, Playwright, Route, sync_playwright

from localdev import chromium
from localdev.local_stack import LocalStack
from localdev.server import DevServer, serve

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
NODE_MODULES = HERE / "node_modules"
DAILY_JS = NODE_MODULES / "@daily-co" / "daily-js" / "dist" / "daily.js"
AXE_JS = NODE_MODULES / "axe-core" / "axe.min.js"
PREBUILT_STUB = HERE / "prebuilt_stub.html"
SCREENSHOTS = ROOT / "artifacts" / "screenshots"

DAILY_JS_VERSION = "0.92.2"
DAILY_CDN_URL = f"https://unpkg.com/@daily-co/daily-js@{DAILY_JS_VERSION}/dist/daily.js"
AXE_PATH = "/__e2e__/axe.min.js"  # answered by the route below, same-origin so the CSP allows it
TIMEOUT_MS = 10_000


def sri_sha384(path: Path) -> str:
    """The Subresource Integrity value of a file."""
    return "sha384-" + base64.b64encode(hashlib.sha384(path.read_bytes()).digest()).decode()


@dataclass
class BrowserLog:
    """What the page printed to its console, and its uncaught errors."""

    console: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    blocked: list[str] = field(default_factory=list)

    def on_console(self, message: ConsoleMessage) -> None:
        self.console.append(f"{message.type}: {message.text}")

    def mentions(self, text: str) -> list[str]:
        return [line for line in self.console + self.errors if text in line]

    def problems(self) -> list[str]:
        """Uncaught errors, console errors (CSP, SRI, daily-js) and refused outside requests.

        "Failed to load resource" is left out: Chromium logs it for every API error status,
        which some tests cause on purpose.
        """
        console_errors = [
            line
            for line in self.console
            if line.startswith("error:") and "Failed to load resource" not in line
        ]
        return self.errors + console_errors + [f"blocked: {url}" for url in self.blocked]


@pytest.fixture(scope="session")
def dev_server(stack: LocalStack) -> Iterator[DevServer]:
    """The `make dev` server on a free loopback port, in a background thread."""
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # moto's per-request lines
    server = serve("127.0.0.1", 0, stack, quiet=True)
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="session")
def base_url(dev_server: DevServer) -> str:
    return dev_server.url.rstrip("/")


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as running:
        yield running


@pytest.fixture(scope="session")
def browser(playwright: Playwright) -> Iterator[Browser]:
    browser = playwright.chromium.launch(executable_path=chromium.EXECUTABLE, args=chromium.ARGS)
    yield browser
    browser.close()


def offline_router(base_url: str, log: BrowserLog) -> Callable[[Route], None]:
    """Serve the CDN script and the room pages locally; refuse every other outside request."""
    daily_js = DAILY_JS.read_bytes()
    stub = PREBUILT_STUB.read_bytes()
    axe = AXE_JS.read_bytes()

    def route(route: Route) -> None:
        url = route.request.url
        host = urlsplit(url).hostname or ""
        if url.startswith(base_url + AXE_PATH):
            route.fulfill(status=200, content_type="text/javascript", body=axe)
        elif url.startswith(base_url + "/"):
            route.continue_()
        elif url == DAILY_CDN_URL:
            # unpkg answers with CORS, which a crossorigin="anonymous" script with SRI needs.
            headers = {"Access-Control-Allow-Origin": "*"}
            route.fulfill(
                status=200, content_type="text/javascript", headers=headers, body=daily_js
            )
        elif host.endswith(".daily.co") and url.startswith("https://"):
            route.fulfill(status=200, content_type="text/html", body=stub)
        else:
            log.blocked.append(url)
            route.abort("blockedbyclient")

    return route


@pytest.fixture
def browser_log() -> BrowserLog:
    return BrowserLog()


@pytest.fixture
def page(
    browser: Browser, base_url: str, fresh_stack: LocalStack, browser_log: BrowserLog
) -> Iterator[Page]:
    """A fresh page in its own context, offline, with its console recorded."""
    context = browser.new_context(viewport={"width": 1280, "height": 800}, base_url=base_url)
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=base_url)
    context.route("**/*", offline_router(base_url, browser_log))
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    page.on("console", browser_log.on_console)
    page.on("pageerror", lambda error: browser_log.errors.append(str(error)))
    yield page
    context.close()
    assert browser_log.problems() == []


def axe_violations(page: Page) -> list[dict[str, Any]]:
    """Run axe-core on the page (not inside Daily's iframe) and return its violations."""
    page.add_script_tag(url=AXE_PATH)
    return page.evaluate(
        """async () => {
            const options = { iframes: false, resultTypes: ["violations"] };
            const results = await axe.run(document, options);
            return results.violations.map((v) => ({
                id: v.id, impact: v.impact, help: v.help,
                nodes: v.nodes.map((n) => n.target.join(" ")),
            }));
        }"""
    )


def screenshot(page: Page, name: str) -> Path:
    """Save a full-page screenshot under artifacts/screenshots/."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
