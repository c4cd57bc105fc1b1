"""`make dev` with no internet: daily-js from the dev server's checked copy, or a clear message.

The first tests run `python -m localdev` itself, with every request that leaves the machine
refused (unpkg.com included), and open an offline call. The others run the dev server with no
copy of daily-js: the page says calls cannot open and spends no room.
"""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
import requests
from playwright.sync_api import Browser, Page, Route, expect

from localdev.call_library import INDEX_HTML, LOCAL_PATH, CallLibrary, PinnedScript
from localdev.local_stack import LocalStack
from localdev.server import serve
from tests.e2e.conftest import (
    AXE_JS,
    AXE_PATH,
    DAILY_CDN_URL,
    JOINED,
    REPORT_CSP_VIOLATIONS,
    TIMEOUT_MS,
    BrowserLog,
    axe_violations,
    screenshot,
)
from tests.e2e.test_dev_server import start_dev, stop_dev

pytestmark = pytest.mark.e2e

SIZES = {"desktop": {"width": 1440, "height": 900}, "phone": {"width": 390, "height": 844}}
STATES = [(size, scheme) for size in SIZES for scheme in ("light", "dark")]
LOOPBACK = {"127.0.0.1", "localhost", "[::1]", "::1"}


@pytest.fixture(scope="module")
def make_dev() -> Iterator[str]:
    """`python -m localdev`, as `make dev` runs it, on a free port."""
    child, url, banner = start_dev()
    assert any(line.startswith("Call library: daily-js ") for line in banner), banner
    assert "served locally" in "".join(banner), banner
    yield url.rstrip("/")
    stop_dev(child)


def offline_page(browser: Browser, base_url: str, log: BrowserLog, size: str, scheme: str) -> Page:
    """A page on `base_url` whose every request off this machine is refused and recorded."""
    context = browser.new_context(
        viewport=SIZES[size],
        base_url=base_url,
        color_scheme=scheme,  # type: ignore[arg-type]
    )

    def route(route: Route) -> None:
        split = urlsplit(route.request.url)
        if split.hostname in LOOPBACK and split.path == AXE_PATH:
            route.fulfill(status=200, content_type="text/javascript", body=AXE_JS.read_bytes())
        elif split.hostname in LOOPBACK:
            route.continue_()
        else:
            log.blocked.append(route.request.url)
            route.abort("blockedbyclient")

    context.route("**/*", route)
    context.expose_binding("__cspViolation", lambda _source, text: log.violations.append(text))
    context.add_init_script(REPORT_CSP_VIOLATIONS)
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    page.on("console", log.on_console)
    page.on("pageerror", lambda error: log.errors.append(str(error)))
    return page


@pytest.mark.parametrize(("size", "scheme"), STATES)
def test_make_dev_opens_an_offline_call_with_every_outside_host_refused(
    browser: Browser, make_dev: str, size: str, scheme: str
) -> None:
    log = BrowserLog()
    page = offline_page(browser, make_dev, log, size, scheme)
    try:
        page.goto("/")
        script = page.locator("script[integrity]")
        expect(script).to_have_attribute("src", LOCAL_PATH)
        # The browser checked the page's SRI hash on the local copy before running it.
        assert page.evaluate("() => typeof window.Daily?.createFrame") == "function"
        expect(page.locator("#library-banner")).to_be_hidden()
        with page.expect_response("**/api/rooms") as created:
            page.get_by_role("button", name="Create room and start").click()
        assert created.value.status == 201
        page.wait_for_function(JOINED)
        standin = page.frame_locator("#frame iframe").get_by_text("Offline demo room")
        expect(standin).to_be_visible()
        assert axe_violations(page) == []
        screenshot(page, f"offline-make-dev-call-{size}-{scheme}")
        page.get_by_role("button", name="Leave call").click()
        expect(page.locator("#home")).to_be_visible()
    finally:
        page.context.close()
    # Nothing left the machine: not unpkg.com, not Daily, not Sentry.
    assert [url for url in log.blocked if "unpkg.com" in url] == []
    assert log.problems() == []


def test_make_dev_serves_the_checked_copy_with_the_page_csp(make_dev: str) -> None:
    page = requests.get(make_dev + "/", timeout=5)
    assert f'src="{LOCAL_PATH}"' in page.text
    assert DAILY_CDN_URL not in page.text
    pinned = PinnedScript.from_page(INDEX_HTML.read_text())
    assert f'integrity="{pinned.integrity}"' in page.text
    # 'self' covers the local copy: the policy is production's, unchanged but for frame-src.
    assert "script-src 'self' " + DAILY_CDN_URL in page.headers["Content-Security-Policy"]
    script = requests.get(make_dev + LOCAL_PATH, timeout=5)
    assert script.status_code == 200
    assert script.headers["Content-Type"] == "text/javascript; charset=utf-8"


@pytest.fixture(scope="module")
def without_library(stack: LocalStack) -> Iterator[str]:
    """The dev server with no copy of daily-js: not cached, and npm unreachable."""
    pinned = PinnedScript.from_page(INDEX_HTML.read_text())
    library = CallLibrary(pinned, notes=["not cached, and npm could not fetch it: ENOTFOUND"])
    server = serve("127.0.0.1", 0, stack, quiet=True, call_library=library)
    yield server.url.rstrip("/")
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize(("size", "scheme"), STATES)
def test_without_the_call_library_the_page_says_so_and_spends_no_room(
    browser: Browser, without_library: str, fresh_stack: LocalStack, size: str, scheme: str
) -> None:
    assert fresh_stack.daily is not None
    log = BrowserLog()
    log.expect(DAILY_CDN_URL)  # the page's CDN tag, refused: no internet
    log.expect("net::ERR_BLOCKED_BY_CLIENT")  # its console line (checked below: only that one)
    page = offline_page(browser, without_library, log, size, scheme)
    posts: list[str] = []
    page.on("request", lambda r: posts.append(r.url) if r.method == "POST" else None)
    try:
        with page.expect_response("**/api/health"):
            page.goto("/?")
        banner = page.locator("#library-banner")
        expect(banner).to_be_visible()
        expect(banner).to_contain_text("Video calls cannot open right now")
        expect(banner).to_contain_text("did not load")
        # The dev server adds why, and what to do, for the developer.
        expect(page.locator("#library-dev-hint")).to_contain_text("npm could not fetch")
        expect(page.locator("#library-dev-hint")).to_contain_text("run make dev once")
        create = page.locator("#create")
        expect(create).to_be_disabled()
        page.get_by_label("Or enter room to join").fill("https://team.daily.co/room")
        expect(page.get_by_role("button", name="Join room")).to_be_disabled()
        # Even a click that reaches Create (a script, an old page) sends nothing.
        page.evaluate(
            "() => { const b = document.getElementById('create'); b.disabled = false; b.click(); }"
        )
        expect(banner).to_be_focused()
        assert axe_violations(page) == []
        screenshot(page, f"offline-no-call-library-{size}-{scheme}")
    finally:
        page.context.close()
    assert posts == []
    assert fresh_stack.daily.rooms == {}
    assert log.blocked == [DAILY_CDN_URL]
    assert log.problems() == []
