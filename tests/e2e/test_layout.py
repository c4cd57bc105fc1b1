"""Layout at a phone (390x844) and a desktop (1440x900) size; axe on every view in both themes.

Screenshots of every view, at both sizes and in both themes, go to artifacts/screenshots/.
"""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Page, Route, expect

from localdev.local_stack import LocalStack
from localdev.server import DevServer
from tests.e2e.conftest import BrowserLog, axe_violations, create_and_join, screenshot
from tests.e2e.test_call import UNREACHABLE_ROOM, pause_the_clock
from tests.e2e.test_home import rate_limited

pytestmark = pytest.mark.e2e

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1440, "height": 900}
SIZES = {"phone": PHONE, "desktop": DESKTOP}


def box(page: Page, selector: str) -> dict[str, float]:
    found = page.locator(selector).bounding_box()
    assert found is not None, selector
    return found


def on_screen(page: Page, selector: str) -> bool:
    """Wholly inside the viewport, with no scrolling."""
    size = page.viewport_size
    assert size is not None
    found = box(page, selector)
    return (
        found["x"] >= 0
        and found["y"] >= 0
        and found["x"] + found["width"] <= size["width"]
        and found["y"] + found["height"] <= size["height"]
    )


def no_sideways_scroll(page: Page) -> bool:
    return page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth")


def test_phone_call_view_keeps_leave_copy_and_time_next_to_the_frame(page: Page) -> None:
    page.set_viewport_size(PHONE)
    page.goto("/")
    assert on_screen(page, "#create")
    create_and_join(page)
    assert page.evaluate("() => window.scrollY") == 0
    for selector in ("#leave", "#copy-invite-bar", "#countdown", "#call-title"):
        assert on_screen(page, selector), selector
    expect(page.get_by_role("button", name="Copy invite", exact=True)).to_be_visible()
    frame = box(page, "#frame")
    leave = box(page, "#leave")
    # The bar sits right above the frame, and the frame fills the rest of the first screen.
    assert 0 < frame["y"] - (leave["y"] + leave["height"]) <= 24
    assert on_screen(page, "#frame")
    assert frame["height"] >= 0.6 * PHONE["height"]
    assert no_sideways_scroll(page)
    screenshot(page, "layout-phone-call")


def test_desktop_frame_uses_the_height_it_has(page: Page) -> None:
    page.set_viewport_size(DESKTOP)
    page.goto("/")
    create_and_join(page)
    frame = box(page, "#frame")
    assert frame["height"] >= 0.6 * DESKTOP["height"]
    assert on_screen(page, "#frame")  # and all of it without scrolling
    # Down to the bottom of the window, less the page's own bottom margin: no unused band.
    assert frame["y"] + frame["height"] >= DESKTOP["height"] - 32
    assert frame["width"] >= 0.6 * DESKTOP["width"]
    for selector in ("#leave", "#countdown", "#copy-invite", "#copy-direct"):
        assert on_screen(page, selector), selector
    # The invite box is beside the frame, not below it.
    side = box(page, ".side")
    assert side["x"] >= frame["x"] + frame["width"]
    assert side["y"] < frame["y"] + frame["height"]
    expect(page.locator("#copy-invite-bar")).to_be_hidden()  # the phone's extra button
    assert no_sideways_scroll(page)
    screenshot(page, "layout-desktop-call")


def check(page: Page, name: str, violations: dict[str, list[dict[str, Any]]]) -> None:
    """axe on the view as it is now, and its screenshot."""
    violations[name] = axe_violations(page)
    screenshot(page, name)


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("size", SIZES)
def test_every_view_has_no_accessibility_violations(
    page: Page,
    dev_server: DevServer,
    fresh_stack: LocalStack,
    browser_log: BrowserLog,
    scheme: str,
    size: str,
) -> None:
    browser_log.expect("https://team.daily.co/standup")  # a room that cannot load, offline
    browser_log.expect("status of 429")
    page.set_viewport_size(SIZES[size])
    page.emulate_media(color_scheme=scheme)
    found: dict[str, list[dict[str, Any]]] = {}
    prefix = f"{size}-{scheme}"

    page.goto("/")
    expect(page.locator("#lifetime")).to_be_visible()
    page.get_by_label("Your name (optional)").fill("Ada")
    check(page, f"{prefix}-home", found)

    field = page.get_by_label("Or enter room to join")
    field.fill("http://team.daily.co/room")
    field.blur()
    expect(page.locator("#room-url-error")).not_to_be_empty()
    check(page, f"{prefix}-home-join-error", found)
    field.fill("")

    room = create_and_join(page)
    expect(page.frame_locator("#frame iframe").get_by_text("Offline demo room")).to_be_visible()
    check(page, f"{prefix}-call", found)

    page.get_by_role("button", name="Leave call").click()
    expect(page.get_by_role("button", name=f"Rejoin {room['name']}", exact=False)).to_be_visible()
    check(page, f"{prefix}-home-rejoin", found)

    field.fill("https://team.daily.co/standup")
    page.get_by_role("button", name="Join room").click()
    expect(page.locator("#frame-status")).to_have_text("Connecting to the room…")
    check(page, f"{prefix}-call-connecting", found)
    page.get_by_role("button", name="Leave call").click()
    expect(page.locator("#notice")).not_to_be_empty()
    check(page, f"{prefix}-home-notice", found)

    page.route("**/api/rooms", rate_limited(443))
    page.get_by_role("button", name="Create room and start").click()
    expect(page.locator("#create-alert")).to_contain_text("7 minutes")
    check(page, f"{prefix}-home-error", found)
    page.unroute("**/api/rooms")

    page.goto(f"/?room={room['url']}")
    expect(page.get_by_role("button", name="Join room")).to_be_focused()
    check(page, f"{prefix}-home-invite", found)

    fresh_stack.set_configured(False)
    dev_server.use_stack(fresh_stack)  # new containers, which read the emptied secret
    page.goto("/")
    expect(page.locator("#config-banner")).to_be_visible()
    check(page, f"{prefix}-home-not-configured", found)

    assert {name: v for name, v in found.items() if v} == {}


def standin_that_ejects_late(route: Route) -> None:
    """The stand-in, minus its ejection at exp: the moment before Daily ends an expired call."""
    script = route.fetch().text()
    eject = "if (exp) ejectTimer = setTimeout("
    assert eject in script
    late = script.replace(eject, "if (false) ejectTimer = setTimeout(")
    route.fulfill(body=late, content_type="text/javascript")


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("size", SIZES)
def test_error_views_have_no_accessibility_violations(
    page: Page, browser_log: BrowserLog, scheme: str, size: str
) -> None:
    """The expired note, the load error and the no-room alert."""
    browser_log.expect("https://team.daily")  # a room that cannot load, offline, on any domain
    page.route("**/__daily__/assets/standin.js", standin_that_ejects_late)
    page.route("https://o77906.ingest.sentry.io/**", lambda route: route.fulfill(json={}))
    page.set_viewport_size(SIZES[size])
    page.emulate_media(color_scheme=scheme)
    found: dict[str, list[dict[str, Any]]] = {}
    prefix = f"{size}-{scheme}"
    page.clock.install()
    page.goto("/")

    room = create_and_join(page)
    now = page.evaluate("() => Date.now() / 1000")
    page.clock.fast_forward(int((room["exp"] - now + 1) * 1000))
    expect(page.locator("#expiry-note")).to_contain_text("This room has expired")
    expect(page.locator("#expiry")).to_contain_text("Room expired")
    check(page, f"{prefix}-call-expired", found)
    page.get_by_role("button", name="Leave call").click()
    expect(page.locator("#home")).to_be_visible()

    pause_the_clock(page)
    field = page.get_by_label("Or enter room to join")
    field.fill(UNREACHABLE_ROOM)
    page.get_by_role("button", name="Join room").click()
    page.clock.run_for(15_100)
    expect(page.locator("#load-error")).to_be_visible()
    page.clock.resume()  # axe needs running timers; daily-js may go on to its next domains
    check(page, f"{prefix}-call-load-error", found)
    page.locator("#load-error").get_by_role("button", name="Leave", exact=True).click()
    expect(page.locator("#home")).to_be_visible()

    field.fill("https://emulator.daily.co/no-such-room")
    page.get_by_role("button", name="Join room").click()
    expect(page.get_by_role("alert")).to_contain_text("This room does not exist")
    check(page, f"{prefix}-home-no-room", found)

    assert {name: v for name, v in found.items() if v} == {}
