"""Real headless Chromium against the dev server, fully offline.

One local stack and one dev server (the very code `make dev` runs) serve the whole session.
The page's CDN script is answered from tests/e2e/node_modules (so its SRI hash must match the
npm file). Calls to the emulator's rooms open the dev server's Prebuilt stand-in, through
daily-js's own proxyUrl, exactly as under `make dev`; every other outside request fails.

Every test fails on any uncaught error, console error, CSP violation (`securitypolicyviolation`
in any frame) or outside request, unless the test says it expects that very one.
"""

from __future__ import annotations

import base64
import hashlib
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import (
    Browser,
    ConsoleMessage,
    Page,
    Playwright,
    Route,
    expect,
    sync_playwright,
)

from localdev import chromium
from localdev.local_stack import LocalStack
from localdev.server import DevServer, serve

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
NODE_MODULES = HERE / "node_modules"
DAILY_JS = NODE_MODULES / "@daily-co" / "daily-js" / "dist" / "daily.js"
AXE_JS = NODE_MODULES / "axe-core" / "axe.min.js"
SCREENSHOTS = ROOT / "artifacts" / "screenshots"

DAILY_JS_VERSION = "0.92.2"
DAILY_CDN_URL = f"https://unpkg.com/@daily-co/daily-js@{DAILY_JS_VERSION}/dist/daily.js"
AXE_PATH = "/__e2e__/axe.min.js"  # answered by the route below, same-origin so the CSP allows it
# How long a wait may last before the test fails. Waits end as soon as their condition holds,
# so this only matters on a loaded machine: a slow run must not fail a browser test.
TIMEOUT_MS = 30_000
expect.set_options(timeout=TIMEOUT_MS)


def sri_sha384(path: Path) -> str:
    """The Subresource Integrity value of a file."""
    return "sha384-" + base64.b64encode(hashlib.sha384(path.read_bytes()).digest()).decode()


# Reports every CSP violation, in the page and in every frame, to the test.
REPORT_CSP_VIOLATIONS = """
document.addEventListener("securitypolicyviolation", (event) => {
    const { violatedDirective, blockedURI } = event;
    window.__cspViolation(`${violatedDirective} blocked ${blockedURI} in ${location.href}`);
});
"""


@dataclass
class BrowserLog:
    """What the page printed to its console, its uncaught errors and CSP violations."""

    console: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    blocked: list[str] = field(default_factory=list)
    violations: list[str] = field(default_factory=list)
    expected: list[str] = field(default_factory=list)

    def on_console(self, message: ConsoleMessage) -> None:
        self.console.append(f"{message.type}: {message.text}")

    def expect(self, text: str) -> None:
        """Let console errors and refused requests containing `text` pass: the test causes them."""
        self.expected.append(text)

    def mentions(self, text: str) -> list[str]:
        return [line for line in self.console + self.errors if text in line]

    def problems(self) -> list[str]:
        """Uncaught errors, CSP violations, console errors and refused outside requests."""
        console_errors = [line for line in self.console if line.startswith("error:")]
        refused = [f"blocked: {url}" for url in self.blocked]
        unexpected = [
            line
            for line in console_errors + refused
            if not any(text in line for text in self.expected)
        ]
        return self.errors + [f"CSP: {v}" for v in self.violations] + unexpected


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
    # A fake camera, for the tests that grant the stand-in its preview.
    args = [*chromium.ARGS, "--use-fake-device-for-media-stream"]
    browser = playwright.chromium.launch(executable_path=chromium.find().path, args=args)
    yield browser
    browser.close()


def offline_router(base_url: str, log: BrowserLog) -> Callable[[Route], None]:
    """Serve the CDN script (and axe) locally; refuse every other outside request."""
    daily_js = DAILY_JS.read_bytes()
    axe = AXE_JS.read_bytes()

    def route(route: Route) -> None:
        url = route.request.url
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
        else:
            log.blocked.append(url)
            route.abort("blockedbyclient")

    return route


@pytest.fixture
def browser_log() -> BrowserLog:
    return BrowserLog()


@pytest.fixture
def page(
    browser: Browser,
    dev_server: DevServer,
    base_url: str,
    fresh_stack: LocalStack,
    browser_log: BrowserLog,
) -> Iterator[Page]:
    """A fresh page in its own context, offline, with its console recorded; the dev server runs
    new containers of the functions, which read the reset stack's secrets."""
    dev_server.use_stack(fresh_stack)
    context = browser.new_context(viewport={"width": 1280, "height": 800}, base_url=base_url)
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=base_url)
    context.route("**/*", offline_router(base_url, browser_log))
    context.expose_binding(
        "__cspViolation", lambda _source, text: browser_log.violations.append(text)
    )
    context.add_init_script(REPORT_CSP_VIOLATIONS)
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


JOINED = "() => window.Daily?.getCallInstance()?.meetingState() === 'joined-meeting'"


def create_and_join(page: Page) -> dict[str, Any]:
    """Click Create, wait until daily-js has joined the room; the API's answer."""
    with page.expect_response(
        lambda r: r.url.endswith("/api/rooms") and r.request.method == "POST"
    ) as response:
        page.get_by_role("button", name="Create room and start").click()
    assert response.value.status == 201
    page.wait_for_function(JOINED)
    return response.value.json()


def seconds(countdown: str) -> int:
    """m:ss -> seconds."""
    minutes, secs = countdown.split(":")
    return int(minutes) * 60 + int(secs)


def leave_call(page: Page) -> None:
    """Leave with the call bar's button: home again, and the call's history entry taken back."""
    page.get_by_role("button", name="Leave call").click()
    page.locator("#home").wait_for()
    page.wait_for_function("() => history.state === null")
