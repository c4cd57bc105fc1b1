"""Invites first, honest limits, the dev server's setup hint and the header's place.

At a desktop (1440x900) and a phone (390x844) size, in both themes, with axe on each view and a
screenshot of it.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, Route, expect

from localdev.call_library import INDEX_HTML
from localdev.local_stack import LocalStack
from localdev.server import SETUP_HINT
from tests.e2e.conftest import BrowserLog, axe_violations, create_and_join, screenshot
from tests.e2e.test_layout import on_screen

pytestmark = pytest.mark.e2e

SIZES = {"desktop": {"width": 1440, "height": 900}, "phone": {"width": 390, "height": 844}}
STATES = [(size, scheme) for size in SIZES for scheme in ("light", "dark")]
SERVER_MESSAGE = "You can create 5 rooms every 10 minutes. Please try again in 7 minutes."


def at(page: Page, size: str, scheme: str) -> None:
    page.set_viewport_size(SIZES[size])  # type: ignore[arg-type]
    page.emulate_media(color_scheme=scheme)  # type: ignore[arg-type]


def settled(page: Page, path: str) -> None:
    """Open `path` and wait for every late element: the health answer and the lifetimes."""
    with page.expect_response("**/api/health"):
        page.goto(path)
    expect(page.locator("#lifetime")).to_be_visible()
    page.wait_for_timeout(100)  # a frame for the layout after the lifetimes


def field_keeps_its_width(page: Page) -> bool:
    """The room field is at least as wide as Join beside (or above) it."""
    field, join = (page.locator(s).bounding_box() for s in ("#room-url", "#join"))
    assert field is not None
    assert join is not None
    return field["width"] >= join["width"] >= 100


def scrolled_to_top(page: Page) -> bool:
    return page.evaluate("() => window.scrollY") == 0


@pytest.mark.parametrize(("size", "scheme"), STATES)
def test_an_invite_puts_the_notice_and_a_primary_join_on_screen_together(
    page: Page, size: str, scheme: str
) -> None:
    at(page, size, scheme)
    settled(page, "/?room=https://team.daily.co/standup")
    notice = page.locator("#notice")
    expect(notice).to_contain_text("You are invited to room standup")
    join = page.get_by_role("button", name="Join room")
    expect(join).to_be_focused()
    assert on_screen(page, "#notice")
    assert on_screen(page, "#join")
    assert scrolled_to_top(page)
    assert field_keeps_its_width(page)
    # Join is the primary action; Create is the other choice, and looks it.
    expect(join).to_have_class(re.compile(r"\bprimary\b"))
    create = page.locator("#create")
    expect(create).to_have_class(re.compile(r"\bsecondary\b"))
    expect(create).not_to_have_class(re.compile(r"\bprimary\b"))
    join_fill = join.evaluate("(b) => getComputedStyle(b).backgroundColor")
    create_fill = create.evaluate("(b) => getComputedStyle(b).backgroundColor")
    assert join_fill != create_fill
    assert join.bounding_box()["y"] < create.bounding_box()["y"]  # type: ignore[index]
    assert axe_violations(page) == []
    screenshot(page, f"invite-{size}-{scheme}")


@pytest.mark.parametrize(("size", "scheme"), STATES)
def test_a_bad_invite_is_explained_in_the_notice_and_at_the_focused_field(
    page: Page, size: str, scheme: str
) -> None:
    at(page, size, scheme)
    settled(page, "/?room=https://evil.example/room")
    notice = page.locator("#notice")
    expect(notice).to_contain_text("This invite link does not open a room.")
    expect(notice).to_contain_text("not a Daily room link")
    expect(notice).to_have_class(re.compile(r"\bis-problem\b"))
    field = page.get_by_label("Room to join", exact=True)
    expect(field).to_be_focused()  # its description, the error, is read out with it
    expect(field).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#room-url-error")).to_contain_text("not a Daily room link")
    assert field_keeps_its_width(page)
    for selector in ("#notice", "#room-url", "#room-url-error"):
        assert on_screen(page, selector), selector
    assert scrolled_to_top(page)
    assert axe_violations(page) == []
    screenshot(page, f"invite-bad-link-{size}-{scheme}")


def rate_limited(retry_after: int, hits: list[str]):
    def answer(route: Route) -> None:
        hits.append(route.request.url)
        body = {"error": "rate_limited", "message": SERVER_MESSAGE, "requestId": "c0ffee00"}
        route.fulfill(status=429, headers={"Retry-After": str(retry_after)}, json=body)

    return answer


@pytest.mark.parametrize(("size", "scheme"), STATES)
def test_rate_limited_create_counts_down_shows_the_servers_words_and_stays_on_screen(
    page: Page, browser_log: BrowserLog, size: str, scheme: str
) -> None:
    browser_log.expect("status of 429")
    at(page, size, scheme)
    hits: list[str] = []
    page.route("**/api/rooms", rate_limited(3, hits))
    settled(page, "/")
    create = page.locator("#create")
    create.click()
    alert = page.locator("#create-alert")
    expect(alert).to_contain_text(SERVER_MESSAGE)  # the server's wording, not the page's
    expect(alert).to_contain_text("c0ffee00")
    expect(alert).to_be_focused()
    expect(create).to_be_disabled()
    expect(create).to_have_text(re.compile(r"Create again in 0:0[23]"))
    # The alert sits under Create: neither leaves a phone's first screen.
    assert on_screen(page, "#create")
    assert on_screen(page, "#create-alert")
    assert axe_violations(page) == []
    screenshot(page, f"rate-limited-{size}-{scheme}")
    expect(create).to_have_text(re.compile(r"Create again in 0:01"), timeout=3000)
    # Re-enabled by itself once Retry-After has passed, with a polite word.
    expect(create).to_be_enabled(timeout=3000)
    expect(create).to_have_text("Create room and start")
    expect(alert).to_be_empty()
    expect(page.locator("#notice")).to_have_text("You can create a room again.")
    assert hits == [hits[0]]  # the disabled button sent nothing more


def test_a_long_wait_survives_a_reload_and_shows_hours(page: Page, browser_log: BrowserLog) -> None:
    browser_log.expect("status of 429")
    hits: list[str] = []
    page.route("**/api/rooms", rate_limited(4000, hits))
    settled(page, "/")
    page.locator("#create").click()
    expect(page.locator("#create")).to_have_text(re.compile(r"Create again in 1:0[56]:\d\d"))
    settled(page, "/")
    expect(page.locator("#create")).to_be_disabled()
    expect(page.locator("#create")).to_have_text(re.compile(r"Create again in 1:0[56]:\d\d"))
    assert len(hits) == 1


@pytest.mark.parametrize(("size", "scheme"), STATES)
def test_the_dev_servers_not_configured_banner_says_how_to_set_a_key(
    page: Page, fresh_stack: LocalStack, size: str, scheme: str
) -> None:
    fresh_stack.set_configured(False)
    at(page, size, scheme)
    settled(page, "/")
    hint = page.locator("#config-dev-hint")
    expect(hint).to_be_visible()
    expect(hint).to_have_text(SETUP_HINT)
    expect(hint).to_contain_text("make dev DAILY_API_KEY=")
    assert on_screen(page, "#config-banner")
    assert axe_violations(page) == []
    screenshot(page, f"dev-not-configured-{size}-{scheme}")


def test_the_deployed_page_carries_no_dev_server_text(page: Page, fresh_stack: LocalStack) -> None:
    """The hint lives in the dev server (a <meta name="localdev">), never in site/."""
    html = INDEX_HTML.read_text()
    for dev_text in ("DAILY_API_KEY", "make dev", "NO_KEY", 'name="localdev"'):
        assert dev_text not in html
    # The page as production serves it (no meta): the visitor banner alone.
    page.route(
        "**/",
        lambda route: route.fulfill(
            response=route.fetch(),
            body=re.sub(r'<meta name="localdev"[^>]*>', "", route.fetch().text()),
        ),
    )
    fresh_stack.set_configured(False)
    settled(page, "/")
    expect(page.locator("#config-banner")).to_be_visible()
    expect(page.locator("#config-dev-hint")).to_be_hidden()
    expect(page.locator("#config-banner")).not_to_contain_text("key")


@pytest.mark.parametrize(("size", "scheme"), STATES)
def test_the_header_stays_in_place_between_home_and_call(
    page: Page, size: str, scheme: str
) -> None:
    at(page, size, scheme)
    settled(page, "/")
    places = ".brand, .header-inner"
    home = [page.locator(s).bounding_box() for s in places.split(", ")]
    create_and_join(page)
    call = [page.locator(s).bounding_box() for s in places.split(", ")]
    assert call == home
    screenshot(page, f"header-call-{size}-{scheme}")


def test_the_join_field_has_no_placeholder_repeating_the_hint(page: Page) -> None:
    settled(page, "/")
    field = page.get_by_label("Or enter room to join")
    expect(field).not_to_have_attribute("placeholder", re.compile("."))
    expect(field).to_have_value("")
    expect(page.locator("#room-url-hint")).to_contain_text("https://your-team.daily.co/room-name")
