"""The home view: daily-js from the pinned CDN, the room-URL check, setup banner, errors, a11y."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from localdev.local_stack import LocalStack
from tests.e2e.conftest import (
    DAILY_CDN_URL,
    DAILY_JS,
    DAILY_JS_VERSION,
    BrowserLog,
    axe_violations,
    screenshot,
    sri_sha384,
)

pytestmark = pytest.mark.e2e

CREATE = "Create room and start"

# (typed text, whether Join must be enabled)
ROOM_URLS = [
    ("https://your-team.daily.co/room-name", True),
    ("https://a.daily.co/R_9-x/", True),
    ("your-team.daily.co/room-name", True),
    ("https://x.daily.co/hello", True),
    ("", False),
    ("hello", False),
    ("http://your-team.daily.co/room-name", False),
    ("https://your-team.daily.co/", False),
    ("https://daily.co/room-name", False),
    ("https://your-team.daily.com/room-name", False),
    ("https://evil.example/your-team.daily.co/room", False),
    ("https://your-team.daily.co/room/extra", False),
    ("https://your-team.daily.co/room?t=token", False),
    ("https://-team.daily.co/room", False),
    ("https://your-team.daily.co/room name", False),
    ("ftp://your-team.daily.co/room", False),
]


def test_daily_js_loads_from_the_pinned_cdn_url_with_a_matching_integrity_hash(
    page: Page, browser_log: BrowserLog
) -> None:
    page.goto("/")
    script = page.locator('script[src*="unpkg.com"]')
    expect(script).to_have_attribute("src", DAILY_CDN_URL)
    expect(script).to_have_attribute("integrity", sri_sha384(DAILY_JS))
    expect(script).to_have_attribute("crossorigin", "anonymous")
    # The browser checked SRI before running it, so a loaded library means the hash is right.
    assert page.evaluate("() => window.Daily?.version()") == DAILY_JS_VERSION
    assert browser_log.mentions("integrity") == []


def test_page_has_no_inline_scripts_or_styles(page: Page) -> None:
    page.goto("/")
    assert page.locator("script:not([src])").count() == 0
    assert page.locator("style, [style]").count() == 0
    assert page.evaluate("() => document.title") == "Instant Daily video rooms"


def test_join_follows_the_room_url_check_both_ways(page: Page) -> None:
    page.goto("/")
    field = page.get_by_label("Or enter room to join")
    join = page.get_by_role("button", name="Join room")
    expect(join).to_be_disabled()
    for text, valid in ROOM_URLS:
        # Each case starts from a valid URL, so an invalid one must switch Join off again.
        field.fill("https://start.daily.co/room")
        expect(join).to_be_enabled()
        field.fill(text)
        if valid:
            expect(join, f"Join should be enabled for {text!r}").to_be_enabled()
        else:
            expect(join, f"Join should be disabled for {text!r}").to_be_disabled()
        # The pattern attribute (compiled by the browser with the `v` flag) agrees with the JS.
        assert field.evaluate("(el) => el.validity.valid") is (valid or text == ""), text
        invalid_flag = "true" if text and not valid else "false"
        expect(field).to_have_attribute("aria-invalid", invalid_flag)


def test_invalid_room_url_explains_the_expected_form(page: Page) -> None:
    page.goto("/")
    page.get_by_label("Or enter room to join").fill("https://example.com/room")
    expect(page.locator("#room-url-error")).to_contain_text("https://your-team.daily.co/room-name")


def test_not_configured_shows_the_banner_and_disables_create(
    page: Page, fresh_stack: LocalStack
) -> None:
    fresh_stack.set_configured(False)
    page.goto("/")
    banner = page.locator("#config-banner")
    expect(banner).to_be_visible()
    expect(banner).to_contain_text("Secrets Manager secret")
    expect(banner).to_contain_text("README")
    expect(page.get_by_role("button", name=CREATE)).to_be_disabled()
    # Joining an existing room still works without a key.
    page.get_by_label("Or enter room to join").fill("https://team.daily.co/room")
    expect(page.get_by_role("button", name="Join room")).to_be_enabled()
    assert axe_violations(page) == []
    screenshot(page, "home-not-configured")


def test_key_removed_after_load_shows_the_banner_on_create(
    page: Page, fresh_stack: LocalStack
) -> None:
    with page.expect_response("**/api/health"):
        page.goto("/")
    expect(page.get_by_role("button", name=CREATE)).to_be_enabled()
    fresh_stack.set_configured(False)
    page.get_by_role("button", name=CREATE).click()
    expect(page.get_by_role("alert")).to_contain_text("Secrets Manager")
    expect(page.locator("#config-banner")).to_be_visible()
    expect(page.get_by_role("button", name=CREATE)).to_be_disabled()
    assert page.locator("iframe").count() == 0


def test_configured_hides_the_banner(page: Page) -> None:
    with page.expect_response("**/api/health") as health:
        page.goto("/")
    assert health.value.json() == {"configured": True}
    expect(page.locator("#config-banner")).to_be_hidden()
    expect(page.get_by_role("button", name=CREATE)).to_be_enabled()


def test_api_failure_shows_the_server_message_and_mounts_no_frame(
    page: Page, fresh_stack: LocalStack
) -> None:
    assert fresh_stack.daily is not None
    fresh_stack.daily.inject(status=500, times=10)
    page.goto("/")
    with page.expect_response("**/api/rooms") as response_info:
        page.get_by_role("button", name=CREATE).click()
    response = response_info.value
    assert response.status >= 500
    body = response.json()
    alert = page.get_by_role("alert")
    expect(alert).to_be_visible()
    expect(alert).to_contain_text(body["message"])
    expect(alert).to_contain_text(body["requestId"])
    expect(page.locator("#home")).to_be_visible()
    assert page.locator("iframe").count() == 0
    expect(page.get_by_role("button", name=CREATE)).to_be_enabled()
    screenshot(page, "home-api-error")


def test_unreachable_api_gets_a_clear_message(page: Page) -> None:
    page.goto("/")
    page.route("**/api/rooms", lambda route: route.abort("connectionrefused"))
    page.get_by_role("button", name=CREATE).click()
    expect(page.get_by_role("alert")).to_contain_text("Could not reach the server")
    assert page.locator("iframe").count() == 0


def test_double_click_creates_exactly_one_room_and_shows_progress(
    page: Page, fresh_stack: LocalStack
) -> None:
    assert fresh_stack.daily is not None
    fresh_stack.daily.inject(method="POST", path_prefix="/rooms", delay=1.0)
    page.goto("/")
    button = page.locator("#create")
    button.dblclick()
    expect(button).to_be_disabled()
    expect(button).to_have_attribute("aria-busy", "true")
    expect(button).to_contain_text("Creating room")
    page.evaluate("() => { const b = document.getElementById('create'); b.click(); b.click(); }")
    expect(page.locator("#frame iframe")).to_be_attached()
    fresh_stack.daily.wait_idle()
    assert len(fresh_stack.daily.calls(method="POST", path_prefix="/rooms")) == 1
    assert len(fresh_stack.daily.rooms) == 1


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_home_has_no_accessibility_violations(page: Page, scheme: str) -> None:
    page.emulate_media(color_scheme=scheme)
    page.goto("/")
    expect(page.get_by_role("button", name=CREATE)).to_be_enabled()
    page.get_by_label("Or enter room to join").fill("not a room")
    assert axe_violations(page) == []
    page.get_by_label("Or enter room to join").fill("")
    screenshot(page, f"home-{scheme}")


def test_home_fits_a_phone_screen(page: Page) -> None:
    page.set_viewport_size({"width": 375, "height": 740})
    page.goto("/")
    overflow = page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0
    expect(page.get_by_role("button", name=CREATE)).to_be_in_viewport()
    screenshot(page, "home-phone")
